import { readFile } from 'node:fs/promises';

import { getLogger } from '@aiomisc/core';
import {
  FastifyService,
  type FastifyApplicationOptions,
  type FastifyServiceOptions,
} from '@aiomisc/http';
import type { WorkerPool } from '@aiomisc/pool';
import { CircuitBroken } from '@aiomisc/resilience';
import fastify from 'fastify';

import type { AppConfig } from './config-service.js';
import { readDataFile } from './data-file.js';
import { stretchHash } from './hash.js';
import type { StatusBoard } from './status-board.js';
import type { UpstreamClient } from './upstream.js';
import { waitFor } from './wait-for.js';
import { countPrimesTask } from './worker-pool-service.js';

const log = getLogger('sample.api');
const statusPage = new URL('../public/status.html', import.meta.url);

/** What the API needs besides its options. */
export interface ApiDependencies {
  board: StatusBoard;
  upstream: UpstreamClient;
  dataFile: string;
  /** Resolved once the API's stop finished (the upstream and the worker pool wait for it). */
  stopped: () => void;
}

const quiet = new Set(['/status.json', '/livez', '/readyz']);

/**
 * The HTTP API on fastify: the status page and its JSON, CPU work on the default thread pool,
 * a call to the upstream through asyncbackoff and the circuit breaker, a gzip file read through
 * asyncOpen, a task on the WorkerPool, and the liveness and readiness probes (`health: true`).
 * Every request but the status and probe ones writes one access-log record with a sequence
 * number, and the stop line says how many were written (the tests count them).
 */
export class ApiService extends FastifyService {
  #records = 0;
  #html = '';
  #config: AppConfig | undefined;
  #pool: WorkerPool | undefined;
  readonly #deps: ApiDependencies;

  constructor(options: FastifyServiceOptions, deps: ApiDependencies) {
    super(options);
    this.#deps = deps;
  }

  createApplication(options: FastifyApplicationOptions) {
    const config = this.#config!;
    const pool = this.#pool!;
    const { board, upstream, dataFile } = this.#deps;
    const app = fastify(options);

    app.addHook('onResponse', async (request, reply) => {
      const path = request.url.split('?')[0]!;
      if (quiet.has(path)) return;
      log.info(
        {
          seq: ++this.#records,
          method: request.method,
          url: request.url,
          status: reply.statusCode,
        },
        'request',
      );
    });

    app.get('/', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(this.#html),
    );
    app.get('/status.json', async () => board.snapshot());

    app.get('/hello', async (request) => {
      const { name = 'world' } = request.query as { name?: string };
      return { message: `${config.greeting}, ${name}!` };
    });

    app.get('/hash', async (request) => {
      const { text = '', rounds = '2000' } = request.query as { text?: string; rounds?: string };
      const count = Math.min(Math.max(Number(rounds) || 1, 1), 1_000_000);
      return { text, rounds: count, digest: await stretchHash(text, count) };
    });

    app.get('/work', async (request) => {
      const { limit = '20000' } = request.query as { limit?: string };
      const bound = Math.min(Math.max(Number(limit) || 2, 2), 10_000_000);
      return pool.createTask(countPrimesTask, bound);
    });

    app.get('/upstream', async (_request, reply) => {
      try {
        return { ...(await upstream.call()), breaker: upstream.breaker.state };
      } catch (error) {
        const broken = CircuitBroken.isInstance(error);
        return reply.code(broken ? 503 : 502).send({
          error: broken ? 'circuit broken' : String(error),
          breaker: upstream.breaker.state,
        });
      }
    });

    app.get('/file', async () => readDataFile(dataFile));
    return app;
  }

  override async start() {
    // What the routes need comes from other services through the context; a stop that comes
    // meanwhile ends the wait, and then nothing is bound.
    this.#config = await waitFor<AppConfig>(this, 'config');
    this.#pool = await waitFor<WorkerPool>(this, 'worker-pool');
    this.#html = await readFile(statusPage, 'utf8');
    this.signal.throwIfAborted();
    await super.start();
    log.info(`http listening on http://${this.options.address}:${this.address().port}`);
  }

  override async stop() {
    try {
      await super.stop();
    } finally {
      this.#deps.stopped();
    }
    log.info(
      { service: 'ApiService', records: this.#records },
      `ApiService stopped after ${this.#records} request records`,
    );
  }

  describe() {
    return { ready: this.isReady, live: this.isLive, records: this.#records };
  }
}
