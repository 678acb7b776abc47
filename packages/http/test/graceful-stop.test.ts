import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { entrypoint, setLoggerFactory, sleep } from '@aiomisc/core';
import { afterEach, describe, expect, it } from 'vitest';

import { HTTPService, type HTTPServiceOptions, type RequestListener } from '../src/index';
import { connectOutcome, rawClient, urlOf } from './helpers';

const started: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.stop()));
});

/** /slow waits for release(), /hang never answers, /body reads the whole body, else 200. */
class Gated extends HTTPService {
  static override defaults = { address: '127.0.0.1', port: 0 };
  readonly waiting: (() => void)[] = [];
  /** The `id` query parameters of the requests the application saw. */
  readonly seen = new Set<string>();
  createHandler(): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const id = new URL(req.url!, 'http://test').searchParams.get('id');
      if (id !== null) this.seen.add(id);
      if (req.url === '/slow') {
        this.waiting.push(() => res.end('slow done'));
      } else if (req.url === '/hang') {
        // never answers
      } else if (req.url === '/body') {
        req.resume();
        req.on('end', () => res.end('body done'));
      } else if (req.url?.startsWith('/delay/')) {
        const ms = Number(req.url.slice('/delay/'.length).split('?')[0]);
        setTimeout(() => res.end(`delayed ${ms}`), ms);
      } else {
        res.end(`hello ${req.url}`);
      }
    };
  }
  releaseAll(): void {
    for (const release of this.waiting.splice(0)) release();
  }
}

async function start(options: HTTPServiceOptions = {}): Promise<Gated> {
  const service = new Gated(options);
  await service.start();
  started.push(service);
  return service;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!condition()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await sleep(5);
  }
}

function captureLogs(): {
  lines: { level: string; fields?: object; message: string }[];
  restore: () => void;
} {
  const lines: { level: string; fields?: object; message: string }[] = [];
  const make = (level: string) => (first: string | object, second?: string) => {
    if (typeof first === 'string') lines.push({ level, message: first });
    else lines.push({ level, fields: first, message: second ?? '' });
  };
  const logger = {
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
  };
  const restore = setLoggerFactory(() => logger);
  return { lines, restore };
}

describe('misbehaving peers', () => {
  it('answers garbage with 400, counts a client that resets mid-request, and keeps serving', async () => {
    const service = await start({ statisticName: 'peers' });
    const port = service.address().port;
    const garbage = await rawClient(port);
    garbage.socket.write('\x16\x03\x01 definitely not HTTP\r\n\r\n');
    await garbage.ended;
    expect(garbage.received()).toMatch(/^HTTP\/1.1 400/);

    const resetter = await rawClient(port);
    resetter.socket.write('GET /slow HTTP/1.1\r\nHost: test\r\n\r\n');
    await until(() => service.waiting.length === 1);
    resetter.socket.resetAndDestroy();
    await until(() => service.statistic.in_flight === 0);
    expect(service.statistic.aborted).toBe(1);
    service.releaseAll(); // writing to the closed response must not throw

    expect(await (await fetch(urlOf(service, '/after'))).text()).toBe('hello /after');
    await service.stop();
    expect(service.lastShutdown).toMatchObject({ timedOut: false, connectionsDestroyed: 0 });
  });
});

describe('graceful stop', () => {
  it('lets a request in flight finish with 200 while new connections are refused', async () => {
    const service = await start({ shutdownTimeout: 10_000 });
    const port = service.address().port;
    const response = fetch(urlOf(service, '/slow'));
    await until(() => service.waiting.length === 1);
    const stopping = service.stop();
    await until(() => service.server?.listening === false);
    expect(await connectOutcome(port)).toBe('ECONNREFUSED');
    service.releaseAll();
    const answer = await response;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('connection')).toBe('close');
    expect(await answer.text()).toBe('slow done');
    await stopping;
    expect(service.lastShutdown).toMatchObject({
      inFlightAtClose: 1,
      requestsCut: 0,
      connectionsDestroyed: 0,
      timedOut: false,
    });
  });

  it('sends Connection: close to keep-alive clients and closes idle ones when the listener closes', async () => {
    const service = await start({ drainDelay: 400 });
    const port = service.address().port;
    const active = await rawClient(port);
    const idle = await rawClient(port);
    for (const client of [active, idle]) {
      client.socket.write('GET /first HTTP/1.1\r\nHost: test\r\n\r\n');
      await client.waitFor('hello /first');
      expect(client.received()).toMatch(/connection: keep-alive/i);
    }
    const stopping = service.stop();
    await sleep(50);
    // during the drain delay the listener still accepts and answers, with Connection: close
    active.socket.write('GET /second HTTP/1.1\r\nHost: test\r\n\r\n');
    await active.waitFor('hello /second');
    const second = active.received().slice(active.received().indexOf('HTTP/1.1', 10));
    expect(second).toMatch(/connection: close/i);
    await active.ended;
    // the idle keep-alive connection is closed once the listener closes, without a response
    await idle.ended;
    expect(idle.received().match(/HTTP\/1.1 200/g)).toHaveLength(1);
    await stopping;
    expect(service.lastShutdown?.timedOut).toBe(false);
  });

  it('closes a keep-alive connection whose streamed response ends after the listener closed', async () => {
    let respond: ((res: ServerResponse) => void) | undefined;
    class Streaming extends HTTPService {
      createHandler(): RequestListener {
        return (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('part one;');
          respond = () => res.end('part two');
        };
      }
    }
    const service = new Streaming({ address: '127.0.0.1', port: 0 });
    await service.start();
    started.push(service);
    const client = await rawClient(service.address().port);
    client.socket.write('GET / HTTP/1.1\r\nHost: test\r\n\r\n');
    await client.waitFor('part one;');
    expect(client.received()).toMatch(/connection: keep-alive/i);
    const stopping = service.stop();
    await until(() => service.server?.listening === false);
    respond!(undefined as never);
    await client.waitFor('part two');
    await client.ended;
    await stopping;
    expect(service.lastShutdown).toMatchObject({ timedOut: false, connectionsDestroyed: 0 });
  });

  it('does not let slowloris clients or a handler that never answers hold stop past the deadline', async () => {
    const logs = captureLogs();
    try {
      const service = await start({ shutdownTimeout: 300, statisticName: 'slowloris' });
      const port = service.address().port;
      const partialHeaders = await rawClient(port);
      partialHeaders.socket.write('GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ');
      const slowBody = await rawClient(port);
      slowBody.socket.write('POST /body HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\nabc');
      const hanging = fetch(urlOf(service, '/hang')).catch((error: unknown) => error);
      await until(() => service.statistic.in_flight === 2);
      const t0 = performance.now();
      await service.stop();
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(5000);
      await Promise.all([partialHeaders.ended, slowBody.ended]);
      expect(await hanging).toBeInstanceOf(Error);
      const report = service.lastShutdown!;
      expect(report.timedOut).toBe(true);
      expect(report.requestsCut).toBe(2);
      expect(report.connectionsDestroyed).toBeGreaterThanOrEqual(2);
      expect(service.statistic.connections_destroyed).toBe(report.connectionsDestroyed);
      const line = logs.lines.find((entry) => entry.message.includes('deadline of 300 ms expired'));
      expect(line?.level).toBe('warn');
      expect(line?.message).toContain(`destroyed ${report.connectionsDestroyed} connections`);
      expect(line?.fields).toMatchObject({ requestsCut: 2 });
    } finally {
      logs.restore();
    }
  });

  it('loses none of 500 concurrent requests that the server accepted across a stop', async () => {
    const service = await start({ drainDelay: 500, shutdownTimeout: 10_000 });
    const accepted = service.seen;
    const port = service.address().port;
    const results = new Map<string, number | string>();
    const one = async (id: string) => {
      try {
        const response = await fetch(
          `http://127.0.0.1:${port}/delay/${50 + (Number(id) % 7) * 30}?id=${id}`,
        );
        await response.text();
        results.set(id, response.status);
      } catch (error) {
        results.set(
          id,
          (error as Error).cause
            ? String((error as { cause: Error }).cause.message)
            : String(error),
        );
      }
    };
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 250; i++) calls.push(one(String(i)));
    await until(() => accepted.size >= 100);
    const acceptedBeforeStop = accepted.size;
    const stopping = service.stop();
    for (let i = 250; i < 500; i++) {
      calls.push(one(String(i)));
      if (i % 25 === 0) await sleep(20);
    }
    await Promise.all(calls);
    await stopping;
    const failedAccepted = [...accepted].filter((id) => results.get(id) !== 200);
    expect(failedAccepted).toEqual([]);
    expect(acceptedBeforeStop).toBeGreaterThanOrEqual(100);
    expect(accepted.size).toBeGreaterThan(acceptedBeforeStop);
    expect(service.lastShutdown?.timedOut).toBe(false);
    // the others never reached the application: refused after the listener closed, or reset
    // while waiting in the listen backlog; none got an HTTP error
    for (const [id, outcome] of results) {
      if (!accepted.has(id))
        expect(String(outcome)).toMatch(/ECONNREFUSED|ECONNRESET|other side closed/);
    }
  });

  it('destroys an upgraded connection left open at the deadline, counting it', async () => {
    const service = await start({ shutdownTimeout: 200 });
    service.server!.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n',
      );
    });
    const client = await rawClient(service.address().port);
    client.socket.write(
      'GET / HTTP/1.1\r\nHost: test\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n',
    );
    await client.waitFor('101 Switching Protocols');
    await service.stop();
    await client.ended;
    expect(service.lastShutdown).toMatchObject({
      timedOut: true,
      connectionsDestroyed: 1,
      requestsCut: 0,
    });
  });

  it('honours a drain delay of 0 and a deadline beyond 2^31 ms', async () => {
    const service = await start({ drainDelay: 0, shutdownTimeout: 2 ** 31 + 10 });
    const response = fetch(urlOf(service, '/delay/200'));
    await until(() => service.statistic.in_flight === 1);
    await service.stop();
    expect((await response).status).toBe(200);
    expect(service.lastShutdown).toMatchObject({ timedOut: false, requestsCut: 0 });
  });

  it('fits the drain and the deadline into the entrypoint shutdownTimeout', async () => {
    const service = new Gated({ drainDelay: 2 ** 31, shutdownTimeout: 2 ** 31 });
    const ep = entrypoint({
      services: [service],
      shutdownTimeout: 1000,
      logConfig: false,
      catchSignals: [],
    });
    await ep.start();
    const t0 = performance.now();
    await ep.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(service.lastShutdown).toMatchObject({ drainDelayMs: 900, deadlineMs: 0 });
  });

  it('leaves no timer, socket or server behind', async () => {
    const count = () =>
      process
        .getActiveResourcesInfo()
        .filter(
          (kind) => kind === 'Timeout' || kind === 'TCPServerWrap' || kind === 'TCPSocketWrap',
        ).length;
    const before = count();
    const service = new Gated({ drainDelay: 20, health: { port: 0 } });
    await service.start();
    await (await fetch(urlOf(service, '/x'))).text();
    await service.stop();
    await sleep(50);
    expect(count()).toBeLessThanOrEqual(before);
  });
});
