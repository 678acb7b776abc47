import { setMaxListeners } from 'node:events';

import type { ErrorClass } from '@aiomisc/core';
import { InvalidArgumentError, Statistic, expectFunction, expectNumber } from '@aiomisc/core';

import { errorMatcher } from './error-classes';
import { TimeoutError } from './errors/timeout-error';
import type { SignalWrapper } from './wrap';
import { invoke, signalWrapper } from './wrap';

/**
 * Counters of one {@link asyncbackoff} wrapper (Python names). `sum_time` (ms spent in attempts)
 * is only measured when the wrapper has a `statisticName`: two clock reads per attempt cost as
 * much as the rest of the wrapper.
 *
 * @example
 * ```ts
 * const fetchUser = asyncbackoff({ attemptTimeout: 500, statisticName: 'users' })(load);
 * getStatistics('BackoffStatistic'); // [{ kind: 'BackoffStatistic', name: 'users', metric: 'attempts', ... }]
 * ```
 */
export class BackoffStatistic extends Statistic {
  readonly kind: string = 'BackoffStatistic';
  /** Calls of the wrapped function (one call may make several attempts). */
  call_count = 0;
  /** Attempts started. */
  attempts = 0;
  /** Attempts finished (either way). */
  done = 0;
  /** Calls that resolved. */
  success = 0;
  /** Attempts that failed with a retryable error (attempt timeouts included). */
  errors = 0;
  /** Retries scheduled after a retryable error. */
  retries = 0;
  /** Attempts still running when the deadline aborted them. */
  cancels = 0;
  /** Milliseconds spent in attempts (named statistics only). */
  sum_time = 0;
}

/**
 * Counters of one {@link asyncretry} wrapper; the same counters as {@link BackoffStatistic}.
 *
 * @example
 * ```ts
 * const lock = asyncretry(3, { statisticName: 'lock' })(acquire);
 * getStatistics('RetryStatistic');
 * ```
 */
export class RetryStatistic extends BackoffStatistic {
  override readonly kind: string = 'RetryStatistic';
}

/** Options of {@link asyncbackoff}. Durations are milliseconds. */
export interface BackoffOptions {
  /** Limit of one attempt; the attempt's signal is aborted and the attempt retried. @default null (none) */
  attemptTimeout?: number | null;
  /** Limit of all attempts together; the current attempt's signal is aborted. @default null (none) */
  deadline?: number | null;
  /** Pause before each retry (before the first retry when `factor` is above 1). @default 0 */
  pause?: number;
  /** Each retry's pause is the previous one times `factor` (exponential backoff). @default 1 */
  factor?: number;
  /** Upper bound of a grown pause. @default Infinity */
  maxPause?: number;
  /** Share of each pause taken off at random (0 none, 1 "full jitter"). @default 0 */
  jitter?: number;
  /**
   * Error classes that are retried. Attempt timeouts ({@link TimeoutError}) are always retried.
   * @default [] for asyncbackoff (only timeouts are retried), every error for asyncretry
   */
  exceptions?: readonly ErrorClass[];
  /** Called with each retryable error; returning true stops retrying and rethrows it. @default undefined */
  giveup?: (error: unknown) => boolean;
  /** Most attempts in total (>= 1). @default Infinity */
  maxTries?: number;
  /** Name of the statistic instance in `getStatistics()`. @default null */
  statisticName?: string | null;
}

/** Options of {@link asyncretry}: those of {@link BackoffOptions} without the time limits. */
export type RetryOptions = Omit<BackoffOptions, 'attemptTimeout' | 'deadline' | 'maxTries'>;

interface Config {
  attemptTimeout: number | null;
  deadline: number | null;
  pause: number;
  factor: number;
  maxPause: number;
  jitter: number;
  retryable: ((error: unknown) => boolean) | null;
  giveup: ((error: unknown) => boolean) | null;
  maxTries: number;
  timed: boolean;
  statistic: BackoffStatistic;
}

/** Zero-pause retries in a row after which a call yields to the event loop once. */
const YIELD_EVERY = 100;

/**
 * The signal given to attempts that nothing can abort (no attemptTimeout and no deadline):
 * one shared signal instead of an AbortController per attempt.
 */
const NEVER_ABORTED = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);

function optionalDuration(argument: string, value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  return expectNumber(argument, value, { min: 0 });
}

function configure(options: BackoffOptions, retryAll: boolean, statistic: BackoffStatistic): Config {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'an options object');
  }
  const giveup = options.giveup === undefined ? null : expectFunction('giveup', options.giveup);
  const matches = options.exceptions === undefined ? null : errorMatcher('exceptions', options.exceptions);
  let retryable: ((error: unknown) => boolean) | null;
  if (matches === null) retryable = retryAll ? null : (error) => TimeoutError.isInstance(error);
  else retryable = (error) => matches(error) || TimeoutError.isInstance(error);
  return {
    attemptTimeout: optionalDuration('attemptTimeout', options.attemptTimeout),
    deadline: optionalDuration('deadline', options.deadline),
    pause: expectNumber('pause', options.pause ?? 0, { min: 0 }),
    factor: expectNumber('factor', options.factor ?? 1, { min: 1 }),
    maxPause: expectNumber('maxPause', options.maxPause ?? Infinity, { min: 0, allowInfinity: true }),
    jitter: expectNumber('jitter', options.jitter ?? 0, { min: 0, max: 1 }),
    retryable,
    giveup,
    maxTries: expectNumber('maxTries', options.maxTries ?? Infinity, { min: 1, integer: true, allowInfinity: true }),
    timed: statistic.name !== null,
    statistic,
  };
}

/** The pause before retry number `retry` (1-based). */
function pauseBefore(config: Config, retry: number): number {
  if (config.pause === 0) return 0;
  let delay = config.factor === 1 ? config.pause : config.pause * config.factor ** (retry - 1);
  if (delay > config.maxPause) delay = config.maxPause;
  if (config.jitter > 0) delay *= 1 - config.jitter * Math.random();
  return delay;
}

function sleepFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Decides what follows a retryable failure: true when the error is final. */
function isFinal(config: Config, error: unknown, tries: number): boolean {
  return tries >= config.maxTries || (config.giveup !== null && config.giveup(error));
}

/** No attemptTimeout and no deadline: no timer and no AbortController, unless there is a pause. */
async function runUntimed(
  config: Config,
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  passSignal: boolean,
): Promise<unknown> {
  const statistic = config.statistic;
  statistic.call_count++;
  let tries = 0;
  for (;;) {
    tries++;
    statistic.attempts++;
    const started = config.timed ? performance.now() : 0;
    try {
      const result: unknown = await (passSignal ? fn.call(thisArg, NEVER_ABORTED, ...args) : fn.apply(thisArg, args));
      statistic.done++;
      statistic.success++;
      if (config.timed) statistic.sum_time += performance.now() - started;
      return result;
    } catch (error) {
      statistic.done++;
      if (config.timed) statistic.sum_time += performance.now() - started;
      if (config.retryable !== null && !config.retryable(error)) throw error;
      statistic.errors++;
      if (isFinal(config, error, tries)) throw error;
      statistic.retries++;
      const delay = pauseBefore(config, tries);
      if (delay > 0) await sleepFor(delay);
      else if (tries % YIELD_EVERY === 0) await yieldToEventLoop();
    }
  }
}

/** With attemptTimeout and/or deadline: an AbortController per attempt and the timers. */
function runTimed(
  config: Config,
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  passSignal: boolean,
): Promise<unknown> {
  const statistic = config.statistic;
  statistic.call_count++;
  const { attemptTimeout, deadline } = config;
  if (deadline === 0) return Promise.reject(new TimeoutError(0, 'deadline of 0 ms exceeded'));
  return new Promise((resolve, reject) => {
    let settled = false;
    let tries = 0;
    let hasLastError = false;
    let lastError: unknown;
    let running = false;
    let current: AbortController | null = null;
    let deadlineTimer: NodeJS.Timeout | undefined;
    let pauseTimer: NodeJS.Timeout | undefined;
    let pauseImmediate: NodeJS.Immediate | undefined;

    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadlineTimer);
      clearTimeout(pauseTimer);
      clearImmediate(pauseImmediate);
      reject(error);
    };

    const attempt = () => {
      pauseTimer = undefined;
      pauseImmediate = undefined;
      tries++;
      statistic.attempts++;
      // A decorated method gets no signal, so it needs no AbortController (the costly part).
      const controller = passSignal ? new AbortController() : null;
      current = controller;
      running = true;
      const started = config.timed ? performance.now() : 0;
      let finished = false;
      let attemptTimer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return false;
        finished = true;
        clearTimeout(attemptTimer);
        current = null;
        running = false;
        statistic.done++;
        if (config.timed) statistic.sum_time += performance.now() - started;
        return !settled;
      };
      const onError = (error: unknown) => {
        if (!finish()) return;
        hasLastError = true;
        lastError = error;
        if (config.retryable !== null && !config.retryable(error)) return fail(error);
        statistic.errors++;
        let final: boolean;
        try {
          final = isFinal(config, error, tries);
        } catch (giveupError) {
          return fail(giveupError);
        }
        if (final) return fail(error);
        statistic.retries++;
        const delay = pauseBefore(config, tries);
        if (delay > 0) pauseTimer = setTimeout(attempt, delay);
        else if (tries % YIELD_EVERY === 0) pauseImmediate = setImmediate(attempt);
        else attempt();
      };
      if (attemptTimeout !== null) {
        attemptTimer = setTimeout(() => {
          const error = new TimeoutError(attemptTimeout, `attempt timed out after ${attemptTimeout} ms`);
          controller?.abort(error);
          onError(error);
        }, attemptTimeout);
      }
      invoke(fn, thisArg, args, controller === null ? null : controller.signal).then((value) => {
        if (!finish()) return;
        statistic.success++;
        settled = true;
        clearTimeout(deadlineTimer);
        resolve(value);
      }, onError);
    };

    if (deadline !== null) {
      deadlineTimer = setTimeout(() => {
        const error = new TimeoutError(deadline, `deadline of ${deadline} ms exceeded`);
        if (running) {
          statistic.cancels++;
          current?.abort(error);
        }
        // As in the seed: the last error of an attempt wins over the deadline's TimeoutError.
        fail(hasLastError ? lastError : error);
      }, deadline);
    }
    attempt();
  });
}

function backoffWrapper(config: Config): SignalWrapper {
  const timedRun = config.attemptTimeout !== null || config.deadline !== null;
  return signalWrapper((fn, thisArg, args, passSignal) =>
    timedRun ? runTimed(config, fn, thisArg, args, passSignal) : runUntimed(config, fn, thisArg, args, passSignal),
  );
}

/**
 * Retries an async function under five rules at once: a `deadline` over all attempts, an
 * `attemptTimeout` per attempt (the attempt is aborted and retried), a `pause` between attempts
 * (optionally growing by `factor`, with `jitter`), at most `maxTries` attempts, and a `giveup`
 * predicate. Only errors of the `exceptions` classes and attempt timeouts are retried; any other
 * error is rethrown at once. When the deadline passes, the last attempt's error is thrown if there
 * was one, else a {@link TimeoutError}.
 *
 * Each attempt receives its own AbortSignal, aborted on its timeout and on the deadline. Without
 * `attemptTimeout` and `deadline` nothing can abort it, and every attempt gets one shared signal
 * that never aborts (remove listeners you add to it); with a zero pause no timer is armed.
 *
 * @returns a wrapper: `asyncbackoff(options)(fn)` or `@asyncbackoff(options)` on a method (no signal there)
 * @throws {@link InvalidArgumentError} for a negative time, `maxTries` < 1, a non-function `giveup`
 *
 * @example
 * ```ts
 * const fetchUser = asyncbackoff({
 *   attemptTimeout: 500,
 *   deadline: 2000,
 *   pause: 100,
 *   exceptions: [TypeError],
 * })(async (signal, id: string) => {
 *   const response = await fetch(`https://api.example.com/users/${id}`, { signal });
 *   return response.json();
 * });
 * await fetchUser('42');
 * ```
 */
export function asyncbackoff(options: BackoffOptions = {}): SignalWrapper {
  const statistic = new BackoffStatistic(options?.statisticName ?? null);
  return backoffWrapper(configure(options, false, statistic));
}

/**
 * {@link asyncbackoff} without time limits: retries up to `maxTries` attempts in total, by default
 * on any error.
 *
 * @param maxTries - attempts in total (>= 1)
 * @returns a wrapper: `asyncretry(n)(fn)` or `@asyncretry(n)` on a method
 * @throws {@link InvalidArgumentError} when `maxTries` < 1 or an option is invalid
 *
 * @example
 * ```ts
 * const lock = asyncretry(3, { exceptions: [ConnectionError], pause: 50 })(() => acquireLock());
 * await lock();
 * ```
 */
export function asyncretry(maxTries: number, options: RetryOptions = {}): SignalWrapper {
  expectNumber('maxTries', maxTries, { min: 1, integer: true, allowInfinity: true });
  const statistic = new RetryStatistic(options?.statisticName ?? null);
  const { attemptTimeout: _a, deadline: _d, ...rest } = options as BackoffOptions;
  return backoffWrapper(configure({ ...rest, maxTries }, true, statistic));
}
