import type { LongTimeout } from '@aiomisc/core';
import {
  InvalidArgumentError,
  InvalidStateError,
  Statistic,
  expectFunction,
  expectNumber,
  setLongTimeout,
} from '@aiomisc/core';

import { ResultNotSetError } from './errors/result-not-set-error';
import { Future } from './future';

/** One aggregated call as an {@link aggregateAsync} function receives it. */
export interface Arg<TValue, TResult> {
  /** The value the caller passed. */
  readonly value: TValue;
  /** Where the function puts this caller's result (`setResult`) or error (`setException`). */
  readonly future: Future<TResult>;
}

/** Options of {@link aggregate} and {@link aggregateAsync}. */
export interface AggregateOptions {
  /** How long a batch collects calls after its first one, in ms (> 0). */
  leewayMs: number;
  /** A batch that reaches this many calls runs at once. @default null (no limit) */
  maxCount?: number | null;
  /** Name of the statistic instance in `getStatistics()`. @default null */
  statisticName?: string | null;
}

/** Options of one aggregated call. */
export interface AggregatedCallOptions {
  /**
   * Aborts this caller's wait (it rejects with `signal.reason`). If this caller is the one running
   * the batch, the batch function's signal is aborted and another caller runs the batch again.
   */
  signal?: AbortSignal;
}

/** An aggregated function: one value in, that value's result out. */
export type Aggregated<TValue, TResult> = (
  value: TValue,
  options?: AggregatedCallOptions,
) => Promise<TResult>;

/**
 * Counters of one aggregated function. `done`, `success` and `error` count executions of the batch
 * function; `leeway_ms` and `max_count` hold the options (they read 0 in the Python, a bug).
 *
 * @example
 * ```ts
 * getStatistics('AggregateStatistic');
 * ```
 */
export class AggregateStatistic extends Statistic {
  readonly kind = 'AggregateStatistic';
  /** Calls of the aggregated function. */
  call_count = 0;
  /** Executions of the batch function that finished. */
  done = 0;
  /** Executions that resolved. */
  success = 0;
  /** Executions that threw. */
  error = 0;
  /** The `leewayMs` option. */
  leeway_ms = 0;
  /** The `maxCount` option (0 when unlimited). */
  max_count = 0;
}

interface Batch<TValue, TResult> {
  values: TValue[];
  futures: Future<TResult>[];
  /** One abort listener per distinct caller signal, with the indices of that signal's calls. */
  callers: Map<AbortSignal, { indices: number[]; listener: () => void }>;
  timer: LongTimeout | undefined;
  generation: number;
  runner: number;
  controller: AbortController | null;
}

type BatchRunner<TValue, TResult> = (
  signal: AbortSignal,
  batch: Batch<TValue, TResult>,
) => Promise<void>;

interface AggregateConfig {
  leewayMs: number;
  maxCount: number;
  statisticName: string | null;
}

function configure(options: AggregateOptions): AggregateConfig {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'an options object');
  }
  const { leewayMs } = options;
  if (typeof leewayMs !== 'number' || !(leewayMs > 0) || !Number.isFinite(leewayMs)) {
    throw new InvalidArgumentError('leewayMs', leewayMs, 'a finite number > 0');
  }
  const maxCount =
    options.maxCount === undefined || options.maxCount === null
      ? Infinity
      : expectNumber('maxCount', options.maxCount, { min: 1, integer: true });
  return { leewayMs, maxCount, statisticName: options.statisticName ?? null };
}

function createAggregator<TValue, TResult>(
  config: AggregateConfig,
  runBatch: BatchRunner<TValue, TResult>,
): Aggregated<TValue, TResult> {
  const { leewayMs, maxCount } = config;
  const statistic = new AggregateStatistic(config.statisticName);
  statistic.leeway_ms = leewayMs;
  statistic.max_count = maxCount === Infinity ? 0 : maxCount;

  let current: Batch<TValue, TResult> | null = null;

  const cleanup = (batch: Batch<TValue, TResult>) => {
    for (const [signal, { listener }] of batch.callers)
      signal.removeEventListener('abort', listener);
    batch.callers.clear();
  };

  const start = (batch: Batch<TValue, TResult>) => {
    const runner = batch.futures.findIndex((future) => !future.done());
    batch.controller = null;
    if (runner < 0) {
      cleanup(batch);
      return;
    }
    const generation = ++batch.generation;
    const controller = new AbortController();
    batch.runner = runner;
    batch.controller = controller;
    const settle = (error: unknown, failed: boolean) => {
      if (batch.generation !== generation) return;
      batch.controller = null;
      statistic.done++;
      if (failed) statistic.error++;
      else statistic.success++;
      for (const future of batch.futures) {
        if (failed) future.setException(error);
        else future.setException(new ResultNotSetError());
      }
      cleanup(batch);
    };
    let running: Promise<void>;
    try {
      running = runBatch(controller.signal, batch);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      () => settle(undefined, false),
      (error: unknown) => settle(error, true),
    );
  };

  const close = (batch: Batch<TValue, TResult>) => {
    batch.timer?.clear();
    if (current === batch) current = null;
    start(batch);
  };

  /** `signal` aborted: its callers reject; a batch whose callers all left runs no more. */
  const abortCallers = (batch: Batch<TValue, TResult>, signal: AbortSignal) => {
    const entry = batch.callers.get(signal);
    if (entry === undefined) return;
    batch.callers.delete(signal);
    for (const index of entry.indices) batch.futures[index]!.setException(signal.reason);
    if (batch.controller !== null) {
      // The caller running the batch left: abort its run and let the next caller run it again.
      if (entry.indices.includes(batch.runner)) {
        batch.generation++;
        batch.controller.abort(signal.reason);
        start(batch);
      }
    } else if (current === batch && batch.futures.every((future) => future.done())) {
      // Still collecting, and nobody waits any more: no leeway timer may keep the process alive.
      batch.timer?.clear();
      current = null;
      cleanup(batch);
    }
  };

  return function aggregated(value: TValue, callOptions?: AggregatedCallOptions): Promise<TResult> {
    statistic.call_count++;
    const signal = callOptions?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let batch = current;
    if (batch === null) {
      const fresh: Batch<TValue, TResult> = {
        values: [],
        futures: [],
        callers: new Map(),
        timer: undefined,
        generation: 0,
        runner: -1,
        controller: null,
      };
      fresh.timer = setLongTimeout(() => close(fresh), leewayMs);
      current = batch = fresh;
    }
    const index = batch.values.length;
    const future = new Future<TResult>();
    batch.values.push(value);
    batch.futures.push(future);
    if (signal) {
      const known = batch.callers.get(signal);
      if (known) known.indices.push(index);
      else {
        const owner = batch;
        const entry = { indices: [index], listener: () => abortCallers(owner, signal) };
        batch.callers.set(signal, entry);
        signal.addEventListener('abort', entry.listener, { once: true });
      }
    }
    if (batch.values.length >= maxCount) close(batch);
    return future.promise;
  };
}

/**
 * Batches calls: every call made within `leewayMs` of a batch's first call (at most `maxCount`)
 * becomes one call `fn(signal, ...values)`, which must return the results in the order of the
 * values. Each caller gets its own result. If `fn` throws, every caller of the batch gets the
 * error. A caller that aborts only rejects itself; if it was the one running the batch, `fn`'s
 * signal is aborted and another caller runs the batch again. Missing results reject with
 * {@link ResultNotSetError}.
 *
 * @throws {@link InvalidArgumentError} for `leewayMs` <= 0 or a `maxCount` that is not a positive integer
 *
 * @example
 * ```ts
 * const getUser = aggregate({ leewayMs: 10, maxCount: 100 })(async (signal, ...ids: string[]) => {
 *   const rows = await db.users.findMany(ids, { signal });
 *   return ids.map((id) => rows.find((row) => row.id === id));
 * });
 * const [a, b] = await Promise.all([getUser('1'), getUser('2')]); // one query
 * ```
 */
export function aggregate(
  options: AggregateOptions,
): <TValue, TResult>(
  fn: (
    signal: AbortSignal,
    ...values: TValue[]
  ) => Iterable<TResult> | PromiseLike<Iterable<TResult>>,
) => Aggregated<TValue, TResult> {
  const config = configure(options);
  return <TValue, TResult>(
    fn: (
      signal: AbortSignal,
      ...values: TValue[]
    ) => Iterable<TResult> | PromiseLike<Iterable<TResult>>,
  ) => {
    expectFunction('fn', fn);
    return createAggregator<TValue, TResult>(config, async (signal, batch) => {
      const results = await fn(signal, ...batch.values);
      if (
        results === null ||
        typeof (results as Partial<Iterable<TResult>>)?.[Symbol.iterator] !== 'function'
      ) {
        throw new InvalidStateError(
          `the aggregated function must return an iterable of results, got ${results === null ? 'null' : typeof results}`,
        );
      }
      let index = 0;
      for (const result of results) {
        const future = batch.futures[index++];
        if (future === undefined) break;
        future.setResult(result);
      }
    });
  };
}

/**
 * The lower-level {@link aggregate}: `fn(signal, ...args)` receives {@link Arg} objects and sets each
 * result itself with `arg.future.setResult(value)` or `arg.future.setException(error)`. A future left
 * unset rejects with {@link ResultNotSetError}.
 *
 * @throws {@link InvalidArgumentError} for `leewayMs` <= 0 or a `maxCount` that is not a positive integer
 *
 * @example
 * ```ts
 * const square = aggregateAsync({ leewayMs: 10, maxCount: 2 })(
 *   async (_signal, ...args: Arg<number, number>[]) => {
 *     for (const arg of args) arg.future.setResult(arg.value ** 2);
 *   },
 * );
 * await Promise.all([square(1), square(2)]); // [1, 4]
 * ```
 */
export function aggregateAsync(
  options: AggregateOptions,
): <TValue, TResult>(
  fn: (signal: AbortSignal, ...args: Arg<TValue, TResult>[]) => unknown,
) => Aggregated<TValue, TResult> {
  const config = configure(options);
  return <TValue, TResult>(
    fn: (signal: AbortSignal, ...args: Arg<TValue, TResult>[]) => unknown,
  ) => {
    expectFunction('fn', fn);
    return createAggregator<TValue, TResult>(config, async (signal, batch) => {
      const args = batch.values.map((value, index) => ({ value, future: batch.futures[index]! }));
      await fn(signal, ...args);
    });
  };
}
