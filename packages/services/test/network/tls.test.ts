import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

import { InvalidArgumentError } from '@aiomisc/core';
import { makeCertificates, systemCommand, type Certificates } from '@aiomisc/test-kit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { TLSClient, TLSServer } from '../../src/index';
import type { TLSServerOptions } from '../../src/index';
import { closed, expectFdsBackTo, fdCount, recordLogs, roundTrip, waitFor } from './helpers';

class SecureEcho extends TLSServer {
  peers: string[] = [];
  handleClient(socket: TLSSocket) {
    this.peers.push(String(socket.getPeerCertificate()?.subject?.CN));
    socket.pipe(socket);
  }
}

function tlsClient(
  port: number,
  options: { ca?: string; cert?: string; key?: string },
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves when a TLS client is refused: an error during the handshake or right after it. */
function refused(socket: Promise<TLSSocket>): Promise<boolean> {
  return socket.then(
    (connected) =>
      new Promise<boolean>((resolve) => {
        // TLS 1.3: the client finishes its side before the server checks its certificate.
        connected.once('error', () => resolve(true));
        connected.once('close', () => resolve(true));
        connected.write('x');
        connected.once('data', () => resolve(false));
      }),
    () => true,
  );
}

const hasOpenssl = systemCommand('openssl', { install: 'apt-get install openssl' });
let certs: Certificates;
let logs: ReturnType<typeof recordLogs>;
beforeAll(() => {
  if (hasOpenssl) certs = makeCertificates();
});
afterAll(() => certs?.cleanup());
beforeEach(() => {
  logs = recordLogs();
});
afterEach(() => logs.restore());

describe.skipIf(!hasOpenssl)('TLSServer', () => {
  it('echoes with certificates given as paths', async () => {
    const server = new SecureEcho({
      port: 0,
      cert: certs.server.certPath,
      key: certs.server.keyPath,
    });
    await server.start();
    const socket = await tlsClient(server.address().port, { ca: certs.ca.cert });
    expect((await roundTrip(socket, 'secret')).toString()).toBe('secret');
    socket.end();
    await closed(socket);
    await server.stop();
    expect(logs.lines.some((line) => line.message.includes('tls://127.0.0.1:'))).toBe(true);
  });

  it('with a CA, requires a client certificate signed by it', async () => {
    const server = new SecureEcho({
      port: 0,
      cert: certs.server.cert,
      key: certs.server.key,
      ca: certs.ca.certPath,
    });
    await server.start();
    const port = server.address().port;
    const good = await tlsClient(port, {
      ca: certs.ca.cert,
      cert: certs.client.cert,
      key: certs.client.key,
    });
    expect((await roundTrip(good, 'ok')).toString()).toBe('ok');
    good.destroy();
    const again = tlsClient(port, {
      ca: certs.ca.cert,
      cert: certs.client.cert,
      key: certs.client.key,
    });
    expect(await refused(again)).toBe(false);
    (await again).destroy();
    expect(await refused(tlsClient(port, { ca: certs.ca.cert }))).toBe(true);
    expect(
      await refused(
        tlsClient(port, {
          ca: certs.ca.cert,
          cert: certs.otherClient.cert,
          key: certs.otherClient.key,
        }),
      ),
    ).toBe(true);
    await waitFor(() => server.statistic.handshake_errors >= 2);
    expect(server.peers).toHaveLength(2);
    await server.stop();
  });

  it('verify: false accepts clients without certificates even with a CA', async () => {
    const server = new SecureEcho({
      port: 0,
      cert: certs.server.cert,
      key: certs.server.key,
      ca: certs.ca.cert,
      verify: false,
    });
    await server.start();
    const socket = await tlsClient(server.address().port, { ca: certs.ca.cert });
    expect((await roundTrip(socket, 'open')).toString()).toBe('open');
    socket.destroy();
    await server.stop();
  });

  it('survives garbage and resets mid-handshake, leaks nothing, and stops at once', async () => {
    const baseline = fdCount();
    const server = new SecureEcho({
      port: 0,
      cert: certs.server.cert,
      key: certs.server.key,
      gracefulTimeout: 500,
    });
    await server.start();
    const port = server.address().port;
    for (let i = 0; i < 20; i++) {
      const socket = netConnect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      socket.once('connect', () => {
        if (i % 2 === 0) socket.end('GET / HTTP/1.1\r\n\r\n garbage');
        else {
          // The start of a ClientHello, then a reset.
          socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
          setTimeout(() => socket.resetAndDestroy(), 10);
        }
      });
    }
    await waitFor(() => server.statistic.handshake_errors + server.statistic.closed >= 20);
    // One that stays in the handshake: stop must not wait for it.
    const stuck = netConnect({ host: '127.0.0.1', port });
    stuck.on('error', () => {});
    await new Promise((resolve) => stuck.once('connect', resolve));
    await waitFor(() => server.statistic.open >= 1);
    // One that sends a lot and never reads the echo.
    const deaf = await tlsClient(port, { ca: certs.ca.cert });
    deaf.pause();
    for (let i = 0; i < 8; i++) deaf.write(Buffer.alloc(1 << 20, i));
    const socket = await tlsClient(port, { ca: certs.ca.cert });
    expect((await roundTrip(socket, 'alive')).toString()).toBe('alive');
    const started = performance.now();
    await server.stop();
    expect(performance.now() - started).toBeLessThan(5000);
    await closed(stuck);
    await closed(deaf);
    socket.destroy();
    await expectFdsBackTo(baseline);
  });

  it('fails at construction on a missing cert file, verify without a CA, a bad handshakeTimeout', () => {
    const cases: [TLSServerOptions, string, unknown][] = [
      [
        { port: 0, cert: '/nonexistent/server.crt', key: certs.server.key },
        'cert',
        '/nonexistent/server.crt',
      ],
      [{ port: 0, cert: certs.server.cert, key: certs.server.key, verify: true }, 'verify', true],
      [{ port: 0, key: certs.server.key }, 'cert', undefined],
      [{ port: 70000, cert: certs.server.cert, key: certs.server.key }, 'port', 70000],
      [
        { port: 0, cert: certs.server.cert, key: certs.server.key, handshakeTimeout: 0 },
        'handshakeTimeout',
        0,
      ],
    ];
    for (const [options, argument, value] of cases) {
      let caught: unknown;
      try {
        new SecureEcho(options);
      } catch (error) {
        caught = error;
      }
      expect(InvalidArgumentError.isInstance(caught), String(caught)).toBe(true);
      expect((caught as InvalidArgumentError).argument).toBe(argument);
      expect((caught as InvalidArgumentError).value).toBe(value);
    }
  });
});

describe.skipIf(!hasOpenssl)('TLSClient', () => {
  class Hello extends TLSClient {
    reply: Promise<string> | undefined;
    handleConnection(socket: TLSSocket) {
      this.reply = roundTrip(socket, 'hello').then(String);
    }
  }

  it('verifies the server against its CA and presents a client certificate', async () => {
    const server = new SecureEcho({
      port: 0,
      cert: certs.server.cert,
      key: certs.server.key,
      ca: certs.ca.cert,
    });
    await server.start();
    const client = new Hello({
      address: 'localhost',
      port: server.address().port,
      ca: certs.ca.certPath,
      cert: certs.client.certPath,
      key: certs.client.keyPath,
    });
    await client.start();
    expect(await client.reply).toBe('hello');
    expect(server.peers).toEqual(['client']);
    await client.stop();
    await server.stop();
  });

  it('refuses a server whose CA it does not trust, and one whose name does not match', async () => {
    const server = new SecureEcho({ port: 0, cert: certs.server.cert, key: certs.server.key });
    await server.start();
    const port = server.address().port;
    const untrusting = new Hello({ port, ca: certs.otherCa.cert, connectAttempts: 1 });
    await expect(untrusting.start()).rejects.toMatchObject({
      code: expect.stringMatching(/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/),
    });
    expect(untrusting.statistic.failures).toBe(1);
    const wrongName = new Hello({
      port,
      ca: certs.ca.cert,
      servername: 'example.com',
      connectAttempts: 1,
    });
    await expect(wrongName.start()).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    const trusting = new Hello({ port, ca: certs.ca.cert, connectAttempts: 1 });
    await trusting.start();
    expect(await trusting.reply).toBe('hello');
    await trusting.stop();
    const unverified = new Hello({ port, verify: false, connectAttempts: 1 });
    await unverified.start();
    expect(await unverified.reply).toBe('hello');
    await unverified.stop();
    await server.stop();
  });

  it('rejects a missing CA file and a key without a cert at construction', () => {
    expect(() => new Hello({ port: 1, ca: '/nonexistent/ca.pem' })).toThrow(/ca must be/);
    expect(() => new Hello({ port: 1, key: certs.client.key })).toThrow(/cert must be/);
  });
});
