import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import { request as httpsRequest } from 'node:https';

import { entrypoint, InvalidArgumentError, sleep } from '@aiomisc/core';
import { makeCertificates, type Certificates } from '@aiomisc/test-kit';
import fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  FastifyHTTPSService,
  FastifyService,
  InvalidApplicationError,
  type FastifyApplicationOptions,
} from '../src/index';
import { connectOutcome, urlOf } from './helpers';

let certs: Certificates;
beforeAll(() => {
  certs = makeCertificates();
});
afterAll(() => certs.cleanup());

const started: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.stop()));
});

const closed: string[] = [];

class Api extends FastifyService {
  static override defaults = { address: '127.0.0.1', port: 0 };
  createApplication(options: FastifyApplicationOptions) {
    const app = fastify(options);
    app.get('/hello/:name', async (request) => ({
      hello: (request.params as { name: string }).name,
    }));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    app.get('/slow', async () => {
      await sleep(300);
      closed.push('slow handler done');
      return 'slow done';
    });
    app.addHook('onClose', async () => {
      closed.push('onClose');
    });
    return app;
  }
}

class SecureApi extends FastifyHTTPSService {
  static override defaults = { address: '127.0.0.1', port: 0 };
  async createApplication(options: FastifyApplicationOptions) {
    const app = fastify(options);
    app.get('/', async (request) => ({
      version: request.raw.httpVersion,
      authorized: (request.raw.socket as { authorized?: boolean }).authorized ?? null,
    }));
    return app;
  }
}

function httpsGet(
  port: number,
  options: { ca?: string; cert?: string; key?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        ca: options.ca ?? certs.ca.cert,
        ...options,
        servername: 'localhost',
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

describe('FastifyService', () => {
  it('serves the fastify routes, errors included, and keeps serving', async () => {
    const service = new Api();
    await service.start();
    started.push(service);
    const hello = await fetch(urlOf(service, '/hello/world'));
    expect(await hello.json()).toEqual({ hello: 'world' });
    const boom = await fetch(urlOf(service, '/boom'));
    expect(boom.status).toBe(500);
    await boom.text();
    expect((await fetch(urlOf(service, '/missing'))).status).toBe(404);
    expect(service.statistic).toMatchObject({ requests: 3, errors_5xx: 1, errors_4xx: 1 });
    expect(service.application?.server).toBe(service.server);
  });

  it("gives its server fastify's server-level options, unless its own server options set them", async () => {
    const defaults = new Api();
    await defaults.start();
    started.push(defaults);
    // fastify's defaults: keep-alive 72 s, no request timeout (Node's own: 5 s and 300 s)
    expect(defaults.server).toMatchObject({ keepAliveTimeout: 72_000, requestTimeout: 0 });

    const tuned = new Api({
      fastify: { keepAliveTimeout: 10_000, connectionTimeout: 30_000 },
      server: { requestTimeout: 20_000 },
    });
    await tuned.start();
    started.push(tuned);
    expect(tuned.server).toMatchObject({
      keepAliveTimeout: 10_000,
      requestTimeout: 20_000,
      timeout: 30_000,
    });
  });

  it('runs fastify onClose hooks after the requests in flight finished', async () => {
    closed.length = 0;
    const service = new Api();
    await service.start();
    const slow = fetch(urlOf(service, '/slow'));
    await sleep(50);
    await service.stop();
    const response = await slow;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('slow done');
    expect(closed).toEqual(['slow handler done', 'onClose']);
  });

  it('passes its fastify options to createApplication', async () => {
    class Prefixed extends FastifyService {
      createApplication(options: FastifyApplicationOptions) {
        const app = fastify(options);
        app.get('/case', async () => 'exact');
        return app;
      }
    }
    const service = new Prefixed({
      address: '127.0.0.1',
      port: 0,
      fastify: { routerOptions: { caseSensitive: false } },
    });
    await service.start();
    started.push(service);
    expect(await (await fetch(urlOf(service, '/CASE'))).text()).toBe('exact');
  });

  it('refuses a createApplication that does not return fastify, binding nothing', async () => {
    class NotFastify extends FastifyService {
      createApplication() {
        return { get() {}, listen() {} } as never;
      }
    }
    const service = new NotFastify({ address: '127.0.0.1', port: 0, health: { port: 0 } });
    const error = await service.start().catch((e: unknown) => e);
    expect(InvalidApplicationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /must return a fastify instance, got an instance of Object/,
    );
    expect(service.server).toBeUndefined();
  });

  it('refuses a fastify instance made without its options, and closes it', async () => {
    const own = fastify();
    class OwnServer extends FastifyService {
      createApplication() {
        return own;
      }
    }
    const service = new OwnServer({ address: '127.0.0.1', port: 0 });
    const error = await service.start().catch((e: unknown) => e);
    expect(InvalidApplicationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/must pass its options argument to fastify\(\)/);
    expect(own.server.listening).toBe(false);
  });

  it('fails start when a fastify plugin fails, releasing the port', async () => {
    class BadPlugin extends FastifyService {
      createApplication(options: FastifyApplicationOptions) {
        const app = fastify(options);
        app.register(async () => {
          throw new Error('plugin failed');
        });
        return app;
      }
    }
    const service = new BadPlugin({ address: '127.0.0.1', port: 0, health: { port: 0 } });
    await expect(service.start()).rejects.toThrow('plugin failed');
    expect(service.server).toBeUndefined();
  });

  it('starts and stops with an entrypoint, readiness following it', async () => {
    const service = new Api({ health: true, drainDelay: 200 });
    const ep = entrypoint({ services: [service], logConfig: false, catchSignals: [] });
    await ep.start();
    const port = service.address().port;
    expect((await fetch(urlOf(service, '/readyz'))).status).toBe(200);
    const stopping = ep.stop();
    await sleep(50);
    const draining = await fetch(urlOf(service, '/readyz'));
    expect(draining.status).toBe(503);
    expect(draining.headers.get('connection')).toBe('close');
    expect((await fetch(urlOf(service, '/hello/drain'))).status).toBe(200);
    await stopping;
    expect(await connectOutcome(port)).toBe('ECONNREFUSED');
  });
});

describe('FastifyHTTPSService', () => {
  it('serves HTTPS with a certificate made at test time', async () => {
    const service = new SecureApi({ cert: certs.server.certPath, key: certs.server.keyPath });
    await service.start();
    started.push(service);
    const { status, body } = await httpsGet(service.address().port);
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ version: '1.1' });
  });

  it('requires and checks client certificates when given a ca', async () => {
    const service = new SecureApi({
      cert: certs.server.cert,
      key: certs.server.key,
      ca: certs.ca.cert,
    });
    await service.start();
    started.push(service);
    const port = service.address().port;
    const good = await httpsGet(port, { cert: certs.client.cert, key: certs.client.key });
    expect(JSON.parse(good.body)).toMatchObject({ authorized: true });
    await expect(httpsGet(port)).rejects.toThrow();
    await expect(
      httpsGet(port, { cert: certs.otherClient.cert, key: certs.otherClient.key }),
    ).rejects.toThrow();
  });

  it('refuses a certificate path that does not exist, naming it', () => {
    let caught: unknown;
    try {
      new SecureApi({ cert: '/nonexistent/server.crt', key: certs.server.keyPath });
    } catch (error) {
      caught = error;
    }
    expect(InvalidArgumentError.isInstance(caught)).toBe(true);
    expect((caught as InvalidArgumentError).argument).toBe('cert');
    expect((caught as Error).message).toContain('/nonexistent/server.crt');
    expect((caught as Error).message).toContain('ENOENT');
  });

  it('refuses a missing key and a non-boolean http2', () => {
    expect(() => new SecureApi({ cert: certs.server.cert })).toThrow(/key must be/);
    expect(
      () =>
        new SecureApi({
          cert: certs.server.cert,
          key: certs.server.key,
          http2: 'yes' as unknown as boolean,
        }),
    ).toThrow(/http2 must be a boolean/);
  });

  it('serves HTTP/2 to a node:http2 client and drains its session at stop', async () => {
    const service = new SecureApi({ cert: certs.server.cert, key: certs.server.key, http2: true });
    await service.start();
    started.push(service);
    const session = http2Connect(`https://localhost:${service.address().port}`, {
      ca: certs.ca.cert,
    });
    session.on('error', () => {});
    const get = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ [http2Constants.HTTP2_HEADER_PATH]: '/' });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end();
      });
    const first = await get();
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ version: '2.0' });
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await service.stop();
    // the idle session got a GOAWAY when the listener closed
    await sessionClosed;
    expect(service.lastShutdown).toMatchObject({ timedOut: false, connectionsDestroyed: 0 });
  });

  it('keeps HTTP/1.1 working on an HTTP/2 service', async () => {
    const service = new SecureApi({ cert: certs.server.cert, key: certs.server.key, http2: true });
    await service.start();
    started.push(service);
    const { body } = await httpsGet(service.address().port);
    expect(JSON.parse(body)).toMatchObject({ version: '1.1' });
  });
});

describe('HTTP/1.1 keep-alive on an HTTP/2 service', () => {
  it('closes an idle HTTP/1.1 keep-alive connection when the listener closes', async () => {
    const { connect: tlsConnect } = await import('node:tls');
    const service = new SecureApi({
      cert: certs.server.cert,
      key: certs.server.key,
      http2: true,
      shutdownTimeout: 5000,
    });
    await service.start();
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: service.address().port,
      ca: certs.ca.cert,
      servername: 'localhost',
      ALPNProtocols: ['http/1.1'],
    });
    socket.on('error', () => {});
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    while (!received.includes('"version"')) await sleep(5);
    const t0 = performance.now();
    await service.stop();
    await ended;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(service.lastShutdown).toMatchObject({ timedOut: false });
  });
});
