import type { IncomingMessage, ServerResponse } from 'node:http';

import {
  entrypoint,
  Entrypoint,
  getStatistics,
  InvalidArgumentError,
  InvalidStateError,
  RequiredOptionsError,
  sleep,
} from '@aiomisc/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';

import {
  HTTPService,
  InvalidApplicationError,
  type HTTPServiceOptions,
  type RequestListener,
} from '../src/index';
import { connectOutcome, deferred, urlOf } from './helpers';

const started: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.stop()));
});

class Bare extends HTTPService {
  static override defaults = { address: '127.0.0.1', port: 0 };
  createHandler(): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/throw') throw new Error('sync boom');
      if (req.url === '/reject') return Promise.reject(new Error('async boom'));
      if (req.url === '/missing') {
        res.statusCode = 404;
        res.end('no');
        return;
      }
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.url}`);
    };
  }
}

async function start<T extends { start(): Promise<void>; stop(): Promise<void> }>(
  service: T,
): Promise<T> {
  await service.start();
  started.push(service);
  return service;
}

describe('HTTPService', () => {
  it('serves a bare request listener on a free port', async () => {
    const service = await start(new Bare());
    expect(service.address().port).toBeGreaterThan(0);
    const response = await fetch(urlOf(service, '/abc'));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello /abc');
  });

  it('serves an express app', async () => {
    class Express extends HTTPService {
      createHandler() {
        const app = express();
        app.get('/users/:id', (req, res) => {
          res.json({ id: req.params.id });
        });
        return app;
      }
    }
    const service = await start(new Express({ address: '127.0.0.1', port: 0 }));
    const response = await fetch(urlOf(service, '/users/42'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '42' });
    expect((await fetch(urlOf(service, '/nope'))).status).toBe(404);
  });

  it('answers 500 for a handler that throws or rejects, and keeps serving', async () => {
    const service = await start(new Bare());
    const sync = await fetch(urlOf(service, '/throw'));
    expect(sync.status).toBe(500);
    await sync.text();
    const rejected = await fetch(urlOf(service, '/reject'));
    expect(rejected.status).toBe(500);
    await rejected.text();
    const after = await fetch(urlOf(service, '/ok'));
    expect(await after.text()).toBe('hello /ok');
  });

  it('counts requests, errors by status class and requests in flight', async () => {
    const release: (() => void)[] = [];
    class Counted extends HTTPService {
      createHandler(): RequestListener {
        return (req, res) => {
          if (req.url === '/slow') release.push(() => res.end('slow'));
          else if (req.url === '/missing') res.writeHead(404).end();
          else if (req.url === '/fail') res.writeHead(503).end();
          else res.end('ok');
        };
      }
    }
    const service = await start(
      new Counted({ address: '127.0.0.1', port: 0, statisticName: 'counted-test' }),
    );
    await (await fetch(urlOf(service, '/'))).text();
    await (await fetch(urlOf(service, '/missing'))).text();
    await (await fetch(urlOf(service, '/fail'))).text();
    const slow = fetch(urlOf(service, '/slow'));
    while (release.length === 0) await sleep(5);
    const metrics = () =>
      Object.fromEntries(
        getStatistics('HTTPStatistic')
          .filter((entry) => entry.name === 'counted-test')
          .map((entry) => [entry.metric, entry.value]),
      );
    expect(metrics()).toMatchObject({ requests: 4, in_flight: 1, errors_4xx: 1, errors_5xx: 1 });
    release[0]!();
    await (await slow).text();
    await sleep(10);
    expect(metrics()).toMatchObject({ requests: 4, in_flight: 0, aborted: 0 });
  });

  it('accepts an async createHandler and a subclass with its own defaults', async () => {
    class Async extends HTTPService<HTTPServiceOptions & { greeting?: string }> {
      static override defaults = { greeting: 'hi', address: '127.0.0.1', port: 0 };
      async createHandler(): Promise<RequestListener> {
        await sleep(1);
        return (_req, res) => res.end(this.options.greeting);
      }
    }
    const service = await start(new Async());
    expect(await (await fetch(urlOf(service))).text()).toBe('hi');
  });
});

describe('HTTPService options and start failures', () => {
  it.each([
    ['port', { port: -1 }],
    ['port', { port: 70000 }],
    ['port', { port: 1.5 }],
    ['address', { port: 0, address: '' }],
    ['drainDelay', { port: 0, drainDelay: -1 }],
    ['drainDelay', { port: 0, drainDelay: Infinity }],
    ['shutdownTimeout', { port: 0, shutdownTimeout: Number.NaN }],
    ['health', { port: 0, health: 'yes' }],
    ['health.liveness', { port: 0, health: { liveness: 'livez' } }],
    ['health.readiness', { port: 0, health: { liveness: '/x', readiness: '/x' } }],
    ['health.port', { port: 0, health: { port: -5 } }],
    ['health.port', { port: 0, health: { address: '127.0.0.1' } }],
  ])('refuses a bad %s with an error naming it', (argument, options) => {
    let caught: unknown;
    try {
      new Bare(options as HTTPServiceOptions);
    } catch (error) {
      caught = error;
    }
    expect(InvalidArgumentError.isInstance(caught)).toBe(true);
    expect((caught as InvalidArgumentError).argument).toBe(argument);
  });

  it('requires a port', () => {
    class NoDefaults extends HTTPService {
      createHandler(): RequestListener {
        return (_req, res) => res.end();
      }
    }
    expect(() => new NoDefaults()).toThrow(RequiredOptionsError);
  });

  it('fails start with a clear error when createHandler returns no function, binding nothing', async () => {
    class NotAHandler extends HTTPService {
      createHandler() {
        return { handle() {} } as unknown as RequestListener;
      }
    }
    const service = new NotAHandler({ address: '127.0.0.1', port: 0, health: { port: 0 } });
    const error = await service.start().catch((e: unknown) => e);
    expect(InvalidApplicationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('createHandler() must return a request listener');
    expect(() => service.address()).toThrow(InvalidStateError);
    expect(service.server).toBeUndefined();
  });

  it('releases the health port when the main port is taken', async () => {
    const first = await start(new Bare());
    const taken = first.address().port;
    const second = new Bare({ address: '127.0.0.1', port: taken, health: { port: 0 } });
    const error = (await second.start().catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(error.code).toBe('EADDRINUSE');
    expect(() => second.healthAddress()).toThrow(InvalidStateError);
    // the failed service can start again once the port is free
    await first.stop();
    const third = await start(new Bare({ address: '127.0.0.1', port: taken }));
    expect(third.address().port).toBe(taken);
  });

  it('releases the main port when the health port is taken', async () => {
    const first = await start(new Bare());
    const taken = first.address().port;
    const second = new Bare({ address: '127.0.0.1', port: 0, health: { port: taken } });
    const error = (await second.start().catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(error.code).toBe('EADDRINUSE');
    expect(second.server).toBeUndefined();
  });

  it('does nothing on stop before start, and a second stop returns once stopped', async () => {
    const service = new Bare();
    await service.stop();
    await service.start();
    const port = service.address().port;
    await Promise.all([service.stop(), service.stop()]);
    await service.stop();
    expect(await connectOutcome(port)).toBe('ECONNREFUSED');
  });

  it('refuses a second start while running, and starts again after a stop', async () => {
    const service = await start(new Bare());
    await expect(service.start()).rejects.toThrow(InvalidStateError);
    await service.stop();
    await service.start();
    expect(await (await fetch(urlOf(service, '/again'))).text()).toBe('hello /again');
  });

  it('stop during start: start rejects, nothing stays bound', async () => {
    const gate = deferred();
    class Slow extends HTTPService {
      async createHandler(): Promise<RequestListener> {
        await gate.promise;
        return (_req, res) => res.end();
      }
    }
    const service = new Slow({ address: '127.0.0.1', port: 0 });
    const starting = service.start();
    const stopping = service.stop();
    gate.resolve();
    await expect(starting).rejects.toThrow(InvalidStateError);
    await stopping;
    expect(service.server).toBeUndefined();
  });
});

describe('HTTPService health routes', () => {
  it('answers liveness and readiness on the same server, not counted as requests', async () => {
    const service = await start(new Bare({ health: true, statisticName: 'health-same' }));
    const live = await fetch(urlOf(service, '/livez'));
    expect(live.status).toBe(200);
    expect(await live.text()).toBe('live');
    const ready = await fetch(urlOf(service, '/readyz?verbose'));
    expect(ready.status).toBe(200);
    await ready.text();
    const requests = getStatistics('HTTPStatistic').find(
      (entry) => entry.name === 'health-same' && entry.metric === 'requests',
    );
    expect(requests?.value).toBe(0);
  });

  it('serves them on a separate port with custom paths', async () => {
    const service = await start(
      new Bare({ health: { port: 0, liveness: '/alive', readiness: '/ready' } }),
    );
    const health = `http://127.0.0.1:${service.healthAddress().port}`;
    expect((await fetch(`${health}/alive`)).status).toBe(200);
    expect((await fetch(`${health}/ready`)).status).toBe(200);
    expect((await fetch(`${health}/other`)).status).toBe(404);
    // the app's own server does not answer them
    expect(await (await fetch(urlOf(service, '/ready'))).text()).toBe('hello /ready');
    const healthPort = service.healthAddress().port;
    await service.stop();
    expect(await connectOutcome(healthPort)).toBe('ECONNREFUSED');
  });

  it('is ready only between the entrypoint POST_START and PRE_STOP', async () => {
    const service = new Bare({ health: { port: 0 }, drainDelay: 300 });
    const seen: Record<string, number> = {};
    const probe = async (label: string) => {
      seen[label] = (await fetch(`http://127.0.0.1:${service.healthAddress().port}/readyz`)).status;
    };
    const onPreStart = () => {
      seen.preStart = service.isReady ? 1 : 0;
    };
    Entrypoint.PRE_START.connect(onPreStart);
    const ep = entrypoint({ services: [service], logConfig: false, catchSignals: [] });
    ep.postStart.connect(() => probe('postStart'));
    try {
      await ep.start();
      await probe('running');
      const stopping = ep.stop();
      await sleep(100);
      // readiness is 503 while the listener still accepts, during the drain delay
      await probe('draining');
      expect(await (await fetch(urlOf(service, '/during-drain'))).text()).toBe(
        'hello /during-drain',
      );
      await stopping;
    } finally {
      Entrypoint.PRE_START.disconnect(onPreStart);
    }
    expect(seen).toEqual({ preStart: 0, postStart: 200, running: 200, draining: 503 });
  });
});
