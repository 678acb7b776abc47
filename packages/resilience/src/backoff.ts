import { setMaxListeners } from 'node:events';

import type { ErrorClass, LongTimeout } from '@aiomisc/core';
import {
  InvalidArgumentError,
  Statistic,
  expectFunction,
  expectNumber,
  setLongTimeout,
  sleep,
} from '@aiomisc/core';

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

/** Untimed calls that share one never-aborted signal before it is replaced by a fresh one. */
const SHARED_SIGNAL_CALLS = 256;
let sharedSignal = neverAbortedSignal();
let sharedSignalCalls = 0;

function neverAbortedSignal(): AbortSignal {
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  return signal;
}

/**
 * The signal of an untimed call (no attemptTimeout and no deadline: nothing aborts it). Calls
 * share one that never aborts, replaced every {@link SHARED_SIGNAL_CALLS} calls: listeners that
 * user code leaves on it (or `AbortSignal.any` dependants) are collected with the old signal once
 * its calls are done, instead of piling up for the life of the process, and no call pays for an
 * AbortController of its own.
 */
function untimedSignal(): AbortSignal {
  if (++sharedSignalCalls > SHARED_SIGNAL_CALLS) {
    sharedSignalCalls = 1;
    sharedSignal = neverAbortedSignal();
  }
  return sharedSignal;
}

function optionalDuration(argument: string, value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  return expectNumber(argument, value, { min: 0 });
}

function configure(
  options: BackoffOptions,
  retryAll: boolean,
  statistic: BackoffStatistic,
): Config {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'an options object');
  }
  const giveup = options.giveup === undefined ? null : expectFunction('giveup', options.giveup);
  const matches =
    options.exceptions === undefined ? null : errorMatcher('exceptions', options.exceptions);
  let retryable: ((error: unknown) => boolean) | null;
  if (matches === null) retryable = retryAll ? null : (error) => TimeoutError.isInstance(error);
  else retryable = (error) => matches(error) || TimeoutError.isInstance(error);
  return {
    attemptTimeout: optionalDuration('attemptTimeout', options.attemptTimeout),
    deadline: optionalDuration('deadline', options.deadline),
    pause: expectNumber('pause', options.pause ?? 0, { min: 0 }),
    factor: expectNumber('factor', options.factor ?? 1, { min: 1 }),
    maxPause: expectNumber('maxPause', options.maxPause ?? Infinity, {
      min: 0,
      allowInfinity: true,
    }),
    jitter: expectNumber('jitter', options.jitter ?? 0, { min: 0, max: 1 }),
    retryable,
    giveup,
    maxTries: expectNumber('maxTries', options.maxTries ?? Infinity, {
      min: 1,
      integer: true,
      allowInfinity: true,
    }),
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
  const signal = passSignal ? untimedSignal() : null;
  let tries = 0;
  for (;;) {
    tries++;
    statistic.attempts++;
    const started = config.timed ? performance.now() : 0;
    try {
      const result: unknown = await (signal !== null
        ? fn.call(thisArg, signal, ...args)
        : fn.apply(thisArg, args));
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
      if (delay > 0) await sleep(delay);
      else if (tries % YIELD_EVERY === 0) await yieldToEventLoop();
    }
  }
}

/** Starts the next attempt of a {@link TimedRun} after a yield. */
function resumeRun(run: TimedRun): void {
  run.attempt();
}

/**
 * One call with attemptTimeout and/or deadline: an AbortController per attempt (a decorated
 * method gets no signal and needs none) and at most one limit timer at a time:
 * - deadline only, or attemptTimeout >= deadline: one deadline timer for the whole call (an
 *   attempt timer could never fire first);
 * - attemptTimeout only: one timer per attempt;
 * - attemptTimeout < deadline: one timer per attempt, armed for whichever limit comes first (the
 *   deadline from one clock read per call and one per retry); once the deadline is nearer than
 *   attemptTimeout, or while pausing between attempts, a deadline timer that stays armed until it
 *   fires or the call settles. On a tie the deadline wins, as when it had its own timer armed first.
 * Every timer is cleared when the call settles.
 */
class TimedRun {
  private readonly statistic: BackoffStatistic;
  private readonly attemptTimeout: number | null;
  private readonly deadline: number | null;
  /** attemptTimeout < deadline: the limit timer is re-armed for each attempt. */
  private readonly merged: boolean;
  private deadlineAt = 0;
  private tries = 0;
  private settled = false;
  private hasLastError = false;
  private lastError: unknown = undefined;
  private running = false;
  private controller: AbortController | null = null;
  private started = 0;
  private limitTimer: LongTimeout | undefined = undefined;
  private limitIsDeadline = false;
  private pauseTimer: LongTimeout | undefined = undefined;
  private pauseImmediate: NodeJS.Immediate | undefined = undefined;

  constructor(
    private readonly config: Config,
    private readonly fn: (...args: unknown[]) => unknown,
    private readonly thisArg: unknown,
    private readonly args: unknown[],
    private readonly passSignal: boolean,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.statistic = config.statistic;
    this.attemptTimeout = config.attemptTimeout;
    this.deadline = config.deadline;
    this.merged =
      this.attemptTimeout !== null && this.deadline !== null && this.attemptTimeout < this.deadline;
  }

  start(): void {
    if (this.deadline !== null) {
      if (this.merged) this.deadlineAt = performance.now() + this.deadline;
      else this.armLimit(this.deadline, true);
    }
    this.attempt();
  }

  private armLimit(ms: number, isDeadline: boolean): void {
    this.limitIsDeadline = isDeadline;
    this.limitTimer = setLongTimeout(() => this.expire(), ms);
  }

  attempt(): void {
    this.pauseTimer = undefined;
    this.pauseImmediate = undefined;
    const id = ++this.tries;
    const statistic = this.statistic;
    statistic.attempts++;
    const controller = this.passSignal ? new AbortController() : null;
    this.controller = controller;
    this.running = true;
    if (this.config.timed) this.started = performance.now();
    if (this.merged) {
      // A deadline timer, once armed, stays until it fires or the call settles: re-arming it
      // for every attempt of a fast-failing loop would never let it fire.
      const deadlineArmed = this.limitIsDeadline && this.limitTimer !== undefined;
      // The first attempt starts with the call: no second clock read.
      const remaining = id === 1 ? this.deadline! : this.deadlineAt - performance.now();
      const attemptTimeout = this.attemptTimeout!;
      if (remaining <= attemptTimeout) {
        if (!deadlineArmed) this.armLimit(remaining, true);
      } else {
        // A deadline timer armed for a pause: the attempt timer fires first.
        if (deadlineArmed) this.limitTimer!.clear();
        this.armLimit(attemptTimeout, false);
      }
    } else if (this.deadline === null) {
      this.armLimit(this.attemptTimeout!, false);
    }
    invoke(this.fn, this.thisArg, this.args, controller === null ? null : controller.signal).then(
      (value) => this.succeed(id, value),
      (error: unknown) => this.failAttempt(id, error),
    );
  }

  /** Ends attempt `id` if it is the running one; true when the call is still unsettled. */
  private finish(id: number): boolean {
    if (id !== this.tries || !this.running) return false;
    this.running = false;
    this.controller = null;
    if (!this.limitIsDeadline) {
      this.limitTimer?.clear();
      this.limitTimer = undefined;
    }
    const statistic = this.statistic;
    statistic.done++;
    if (this.config.timed) statistic.sum_time += performance.now() - this.started;
    return !this.settled;
  }

  private succeed(id: number, value: unknown): void {
    if (!this.finish(id)) return;
    this.statistic.success++;
    this.settled = true;
    this.limitTimer?.clear();
    this.resolve(value);
  }

  private failAttempt(id: number, error: unknown): void {
    if (!this.finish(id)) return;
    this.hasLastError = true;
    this.lastError = error;
    const config = this.config;
    if (config.retryable !== null && !config.retryable(error)) return this.fail(error);
    const statistic = this.statistic;
    statistic.errors++;
    let final: boolean;
    try {
      final = isFinal(config, error, this.tries);
    } catch (giveupError) {
      return this.fail(giveupError);
    }
    if (final) return this.fail(error);
    statistic.retries++;
    const delay = pauseBefore(config, this.tries);
    if (delay > 0) {
      // The deadline timer first: on a tie it fires before the pause ends.
      this.armPauseDeadline();
      this.pauseTimer = setLongTimeout(() => this.attempt(), delay);
    } else if (this.tries % YIELD_EVERY === 0) {
      this.armPauseDeadline();
      this.pauseImmediate = setImmediate(resumeRun, this);
    } else {
      this.attempt();
    }
  }

  /** Between attempts (attemptTimeout < deadline): the deadline needs a timer of its own. */
  private armPauseDeadline(): void {
    if (this.merged && this.limitTimer === undefined)
      this.armLimit(this.deadlineAt - performance.now(), true);
  }

  expire(): void {
    this.limitTimer = undefined;
    if (this.limitIsDeadline) {
      const deadline = this.deadline!;
      const error = new TimeoutError(deadline, `deadline of ${deadline} ms exceeded`);
      if (this.running) {
        this.statistic.cancels++;
        this.controller?.abort(error);
      }
      // As in the seed: the last error of an attempt wins over the deadline's TimeoutError.
      this.fail(this.hasLastError ? this.lastError : error);
    } else {
      const attemptTimeout = this.attemptTimeout!;
      const error = new TimeoutError(
        attemptTimeout,
        `attempt timed out after ${attemptTimeout} ms`,
      );
      this.controller?.abort(error);
      this.failAttempt(this.tries, error);
    }
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.limitTimer?.clear();
    this.pauseTimer?.clear();
    clearImmediate(this.pauseImmediate);
    this.reject(error);
  }
}

/** With attemptTimeout and/or deadline: see {@link TimedRun}. */
function runTimed(
  config: Config,
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  passSignal: boolean,
): Promise<unknown> {
  config.statistic.call_count++;
  if (config.deadline === 0)
    return Promise.reject(new TimeoutError(0, 'deadline of 0 ms exceeded'));
  return new Promise((resolve, reject) => {
    new TimedRun(config, fn, thisArg, args, passSignal, resolve, reject).start();
  });
}

function backoffWrapper(config: Config): SignalWrapper {
  const timedRun = config.attemptTimeout !== null || config.deadline !== null;
  return signalWrapper((fn, thisArg, args, passSignal) =>
    timedRun
      ? runTimed(config, fn, thisArg, args, passSignal)
      : runUntimed(config, fn, thisArg, args, passSignal),
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
 * `attemptTimeout` and `deadline` nothing can abort it: calls share a signal that never aborts,
 * replaced every few hundred calls so that listeners left on it are collected instead of piling
 * up; with a zero pause no timer is armed. Limits and pauses of 2^31 ms and more
 * are honoured.
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
