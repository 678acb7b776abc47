import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

import { InvalidArgumentError, entrypoint, getStatistics } from '@aiomisc/core';
import { TimeoutError } from '@aiomisc/resilience';
import { makeCertificates, systemCommand, type Certificates } from '@aiomisc/test-kit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { RobustTCPClient, RobustTLSClient, TCPClient, TCPServer, TLSServer } from '../../src/index';
import { reconnectPause, reconnectPolicy } from '../../src/network/reconnect';
import { TCPProxy, unusedPort } from '../../src/testing';
import { expectFdsBackTo, fdCount, recordLogs, roundTrip, waitFor } from './helpers';

class Echo extends TCPServer {
  handleClient(socket: Socket) {
    socket.pipe(socket);
  }
}

/** Says hello on every connection and records the replies. */
class Greeter extends RobustTCPClient {
  replies: string[] = [];
  async handleConnection(socket: Socket) {
    this.replies.push((await roundTrip(socket, 'hello')).toString());
  }
}

let logs: ReturnType<typeof recordLogs>;
beforeEach(() => {
  logs = recordLogs();
});
afterEach(() => logs.restore());

describe('TCPClient', () => {
  class Once extends TCPClient {
    reply: Promise<string> | undefined;
    handleConnection(socket: Socket) {
      this.reply = roundTrip(socket, 'once').then(String);
    }
  }

  it('connects when started and runs the handler; stop closes the socket', async () => {
    const baseline = fdCount();
    const server = new Echo({ port: 0 });
    await server.start();
    const client = new Once({ port: server.address().port });
    await client.start();
    expect(await client.reply).toBe('once');
    expect(client.socket).toBeDefined();
    await client.stop();
    expect(client.socket).toBeUndefined();
    expect(client.statistic).toMatchObject({ connects: 1, failures: 0, bytes_in: 4, bytes_out: 4 });
    await server.stop();
    await expectFdsBackTo(baseline);
  });

  it('tries connectAttempts times, then rejects with the last error', async () => {
    const port = await unusedPort();
    const client = new Once({ port, connectAttempts: 3, connectRetryDelay: 10 });
    await expect(client.start()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(client.statistic.failures).toBe(3);
    expect(logs.lines.filter((line) => line.level === 'warn')).toHaveLength(2);
    await client.stop();
  });

  it('a stop during the retry pause ends start at once', async () => {
    const port = await unusedPort();
    const client = new Once({ port, connectRetryDelay: 2 ** 31 + 5 });
    const starting = client.start();
    await waitFor(() => client.statistic.failures === 1);
    const started = performance.now();
    await client.stop();
    await expect(starting).rejects.toThrow(/stopping/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('logs a handler that throws with the server address and destroys its socket', async () => {
    class Broken extends TCPClient {
      async handleConnection() {
        throw new Error('client boom');
      }
    }
    const server = new Echo({ port: 0 });
    await server.start();
    const client = new Broken({ port: server.address().port });
    await client.start();
    await waitFor(() => client.statistic.errors === 1);
    await waitFor(() => server.statistic.closed === 1);
    const line = logs.lines.find((entry) => entry.level === 'error');
    expect(line?.message).toContain(`127.0.0.1:${server.address().port}`);
    await client.stop();
    await server.stop();
  });

  it('destroys the socket of a handler that ignores the signal at gracefulTimeout', async () => {
    class IgnoresItsSignal extends TCPClient {
      async handleConnection() {
        await new Promise(() => {});
      }
    }
    const server = new Echo({ port: 0 });
    await server.start();
    const client = new IgnoresItsSignal({ port: server.address().port, gracefulTimeout: 200 });
    await client.start();
    await waitFor(() => server.statistic.open === 1);
    const started = performance.now();
    await client.stop();
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(client.socket).toBeUndefined();
    await waitFor(() => server.statistic.open === 0);
    await server.stop();
  });

  it('rejects bad options at construction', () => {
    for (const [options, argument] of [
      [{}, 'port'],
      [{ port: 0 }, 'port'],
      [{ port: 70000 }, 'port'],
      [{ port: 1, connectAttempts: 0 }, 'connectAttempts'],
      [{ port: 1, connectTimeout: 0 }, 'connectTimeout'],
      [{ port: 1, connectRetryDelay: -1 }, 'connectRetryDelay'],
      [{ port: 1, gracefulTimeout: -1 }, 'gracefulTimeout'],
    ] as const) {
      let caught: unknown;
      try {
        new Once(options);
      } catch (error) {
        caught = error;
      }
      expect(InvalidArgumentError.isInstance(caught), String(caught)).toBe(true);
      expect((caught as InvalidArgumentError).argument).toBe(argument);
    }
  });
});

describe('RobustTCPClient', () => {
  it('connects to a server started after it', async () => {
    const port = await unusedPort();
    const client = new Greeter({ port, reconnect: { pause: 20, maxPause: 50 } });
    const starting = client.start();
    await waitFor(() => client.statistic.failures >= 2);
    const server = new Echo({ port });
    await server.start();
    await starting;
    await waitFor(() => client.replies.length === 1);
    expect(client.replies).toEqual(['hello']);
    await client.stop();
    await server.stop();
  });

  it('reconnects after the server is stopped and started again', async () => {
    const baseline = fdCount();
    // A fixed port: a restart with port 0 would bind another one.
    const port = await unusedPort();
    const server = new Echo({ port });
    await server.start();
    const client = new Greeter({ port, reconnect: { pause: 10, maxPause: 50 } });
    await client.start();
    await waitFor(() => client.replies.length === 1);
    await server.stop();
    await waitFor(() => client.statistic.failures >= 1);
    await server.start();
    await waitFor(() => client.statistic.reconnects === 1);
    await waitFor(() => client.replies.length === 2);
    await client.stop();
    await server.stop();
    const metrics = Object.fromEntries(
      getStatistics('RobustTCPClientStatistic')
        .filter((entry) => entry.name === null)
        .map((entry) => [entry.metric, entry.value]),
    );
    expect(metrics.reconnects).toBeGreaterThanOrEqual(1);
    await expectFdsBackTo(baseline);
  });

  it('reconnects after TCPProxy cuts every connection', async () => {
    const server = new Echo({ port: 0 });
    await server.start();
    await using proxy = new TCPProxy({ targetPort: server.address().port });
    await proxy.start();
    class Holder extends RobustTCPClient {
      handleConnection(socket: Socket) {
        socket.on('data', () => {});
      }
    }
    const client = new Holder({ port: proxy.port, reconnect: { pause: 10 } });
    await client.start();
    await waitFor(() => proxy.connections === 1);
    await proxy.disconnectAll();
    await waitFor(() => client.statistic.reconnects === 1);
    await waitFor(() => proxy.connections === 1);
    expect(client.statistic.errors).toBe(1); // the reset
    await client.stop();
    await server.stop();
  });

  it('gives up after maxTries failures in a row; start rejects with the error', async () => {
    const port = await unusedPort();
    const client = new Greeter({ port, reconnect: { pause: 1, maxTries: 3 } });
    await expect(client.start()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(client.statistic.failures).toBe(3);
    expect(client.gaveUpWith).toMatchObject({ code: 'ECONNREFUSED' });
    expect(logs.lines.some((line) => line.message.includes('gave up'))).toBe(true);
    // It can be started again.
    const again = client.start();
    await expect(again).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('gives up when giveup(error) says so', async () => {
    const port = await unusedPort();
    const giveup = vi.fn((error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED');
    const client = new Greeter({ port, reconnect: { giveup } });
    await expect(client.start()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(giveup).toHaveBeenCalledTimes(1);
  });

  it('with waitForConnection false, start resolves at once; stop ends a pause beyond 2^31 ms', async () => {
    const port = await unusedPort();
    const client = new Greeter({
      port,
      waitForConnection: false,
      reconnect: { pause: 2 ** 31 + 100, maxPause: Infinity, jitter: 0 },
    });
    await client.start();
    await waitFor(() => client.statistic.failures === 1);
    const started = performance.now();
    await client.stop();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a stop before the first connection makes start reject', async () => {
    const port = await unusedPort();
    const client = new Greeter({ port, reconnect: { pause: 10 } });
    const starting = client.start();
    await waitFor(() => client.statistic.failures >= 1);
    await client.stop();
    await expect(starting).rejects.toThrow(/stopping/);
  });

  it('starts with an entrypoint before the server and stops with it', async () => {
    const port = await unusedPort();
    const client = new Greeter({ port, reconnect: { pause: 10, maxPause: 20 } });
    const server = new Echo({ port });
    const ep = entrypoint({ services: [], catchSignals: [] });
    await ep.start();
    const clientStarted = ep.startServices(client);
    await waitFor(() => client.statistic.failures >= 1);
    await ep.startServices(server);
    await clientStarted;
    await waitFor(() => client.replies.length === 1);
    await ep.stop();
  });

  it('rejects bad reconnect options at construction', () => {
    for (const [reconnect, argument] of [
      [{ factor: 0.5 }, 'reconnect.factor'],
      [{ jitter: 2 }, 'reconnect.jitter'],
      [{ pause: -1 }, 'reconnect.pause'],
      [{ maxTries: 0 }, 'reconnect.maxTries'],
      [{ giveup: 'no' }, 'reconnect.giveup'],
      ['fast', 'reconnect'],
    ] as const) {
      expect(() => new Greeter({ port: 1, reconnect: reconnect as never })).toThrow(
        expect.objectContaining({ argument }),
      );
    }
  });
});

describe('reconnectPause', () => {
  it('grows by factor up to maxPause and takes up to jitter off at random', () => {
    const policy = reconnectPolicy({ pause: 100, factor: 2, maxPause: 1000, jitter: 0 });
    expect([0, 1, 2, 3, 4, 10].map((failures) => reconnectPause(policy, failures))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    const jittered = reconnectPolicy({ pause: 100, factor: 2, maxPause: 1000, jitter: 0.5 });
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValue(0.999_999);
    expect(reconnectPause(jittered, 1)).toBeCloseTo(100, 0);
    random.mockReturnValue(0);
    expect(reconnectPause(jittered, 1)).toBe(200);
  });

  it('defaults: 100 ms doubling up to 5 s, half jitter, never giving up', () => {
    expect(reconnectPolicy(undefined)).toMatchObject({
      pause: 100,
      factor: 2,
      maxPause: 5000,
      jitter: 0.5,
      maxTries: Infinity,
    });
  });
});

const hasOpenssl = systemCommand('openssl', { install: 'apt-get install openssl' });
let certs: Certificates;
beforeAll(() => {
  if (hasOpenssl) certs = makeCertificates();
});
afterAll(() => certs?.cleanup());

describe.skipIf(!hasOpenssl)('RobustTLSClient', () => {
  class SecureEcho extends TLSServer {
    handleClient(socket: TLSSocket) {
      socket.pipe(socket);
    }
  }
  class SecureGreeter extends RobustTLSClient {
    replies: string[] = [];
    async handleConnection(socket: TLSSocket) {
      this.replies.push((await roundTrip(socket, 'hi')).toString());
    }
  }

  it('reconnects over TLS with client certificates after a server restart', async () => {
    const port = await unusedPort();
    const server = new SecureEcho({
      port,
      cert: certs.server.cert,
      key: certs.server.key,
      ca: certs.ca.cert,
    });
    await server.start();
    const client = new SecureGreeter({
      address: 'localhost',
      port,
      ca: certs.ca.cert,
      cert: certs.client.cert,
      key: certs.client.key,
      reconnect: { pause: 10, maxPause: 50 },
    });
    await client.start();
    await waitFor(() => client.replies.length === 1);
    await server.stop();
    await server.start();
    await waitFor(() => client.replies.length === 2);
    expect(client.statistic.reconnects).toBe(1);
    expect(client.statistic.kind).toBe('RobustTLSClientStatistic');
    await client.stop();
    await server.stop();
  });

  it('counts a server it does not trust as a failed attempt', async () => {
    const server = new SecureEcho({ port: 0, cert: certs.server.cert, key: certs.server.key });
    await server.start();
    const client = new SecureGreeter({
      port: server.address().port,
      ca: certs.otherCa.cert,
      reconnect: { pause: 1, maxTries: 2 },
    });
    await expect(client.start()).rejects.toThrow();
    expect(client.statistic.failures).toBe(2);
    await server.stop();
  });

  it('a server that never answers the handshake hits connectTimeout', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const client = new SecureGreeter({
      port: (silent.address() as { port: number }).port,
      ca: certs.ca.cert,
      connectTimeout: 100,
      reconnect: { maxTries: 1 },
    });
    await expect(client.start()).rejects.toSatisfy((error) => TimeoutError.isInstance(error));
    // The silent side never reads, so it would never see the client's FIN.
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});
