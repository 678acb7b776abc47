import type { IncomingMessage, ServerResponse } from 'node:http';

import { getLogger } from '@aiomisc/core';
import { HTTPService, type HTTPServiceOptions } from '@aiomisc/http';
import { asyncbackoff, CircuitBreaker, CircuitBroken } from '@aiomisc/resilience';

import type { Describable } from './status-board.js';

const log = getLogger('sample.upstream');

/** Options of the {@link FlakyUpstream}. Durations in ms. */
export interface FlakyUpstreamOptions extends HTTPServiceOptions {
  /** Share of requests answered 503 at random. */
  failureRate: number;
  /** Time between the starts of two outages (every request fails during one); 0 for none. */
  outageEvery: number;
  /** Length of an outage. */
  outageFor: number;
}

/**
 * The upstream the API depends on: a small HTTP server in the same process, on its own port,
 * that fails some requests and has outages now and then, so the circuit breaker has something to
 * do. Its URL goes into the context as `upstream-url`. It stops only after the API stopped
 * (`stopAfter`), so a request the API accepted can still reach it.
 */
export class FlakyUpstream extends HTTPService<FlakyUpstreamOptions> implements Describable {
  #served = 0;
  #failed = 0;
  #startedAt = 0;
  readonly #stopAfter: Promise<unknown>;

  constructor(options: FlakyUpstreamOptions, stopAfter: Promise<unknown>) {
    super(options);
    this.#stopAfter = stopAfter;
  }

  get inOutage(): boolean {
    const { outageEvery, outageFor } = this.options;
    if (!outageEvery || !this.#startedAt) return false;
    const elapsed = (Date.now() - this.#startedAt) % outageEvery;
    return elapsed >= outageEvery - outageFor;
  }

  createHandler() {
    return (_request: IncomingMessage, response: ServerResponse) => {
      const fail = this.inOutage || Math.random() < this.options.failureRate;
      response.setHeader('content-type', 'application/json');
      if (fail) {
        this.#failed++;
        response.statusCode = 503;
        response.end('{"error":"upstream unavailable"}');
        return;
      }
      this.#served++;
      response.end(JSON.stringify({ answer: 42, served: this.#served }));
    };
  }

  override async start() {
    await super.start();
    this.#startedAt = Date.now();
    const url = `http://${this.options.address}:${this.address().port}/`;
    this.context.set('upstream-url', url);
    log.info(`upstream listening on ${url}`);
  }

  override async stop() {
    await this.#stopAfter;
    await super.stop();
    log.info({ service: 'FlakyUpstream' }, 'FlakyUpstream stopped');
  }

  describe() {
    return { served: this.#served, failed: this.#failed, outage: this.inOutage };
  }
}

/** An answer of the upstream that is not a success: retried by asyncbackoff. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
  }
}

/**
 * Calls the upstream the aiomisc way: every attempt bounded by a timeout, retried on errors
 * with a pause and a deadline for all attempts (`asyncbackoff`), all behind a `CircuitBreaker`
 * that stops calling a broken upstream for a while.
 */
export class UpstreamClient {
  readonly breaker = new CircuitBreaker({
    errorRatio: 0.5,
    responseTime: 4000,
    brokenTime: 2000,
    recoveryTime: 2000,
    minimumCalls: 5,
    statisticName: 'upstream',
    onStateChange: (state, previous) => log.info(`circuit breaker ${previous} -> ${state}`),
  });
  ok = 0;
  failed = 0;
  broken = 0;
  #url: Promise<string>;

  constructor(url: Promise<string>) {
    this.#url = url;
  }

  readonly #fetch = asyncbackoff({
    attemptTimeout: 1000,
    deadline: 3000,
    pause: 50,
    maxTries: 3,
    exceptions: [UpstreamError],
    statisticName: 'upstream',
  })(async (signal: AbortSignal, url: string) => {
    const response = await fetch(url, { signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new UpstreamError(response.status);
    }
    return (await response.json()) as { answer: number; served: number };
  });

  /** One call through the breaker; resolves to the answer or rejects (CircuitBroken when broken). */
  async call(): Promise<{ answer: number; served: number }> {
    const url = await this.#url;
    try {
      const answer = await this.breaker.call(() => this.#fetch(url));
      this.ok++;
      return answer;
    } catch (error) {
      if (CircuitBroken.isInstance(error)) this.broken++;
      else this.failed++;
      throw error;
    }
  }

  describe() {
    return {
      state: this.breaker.state,
      window: this.breaker.window,
      ok: this.ok,
      failed: this.failed,
      broken: this.broken,
    };
  }
}
