import type { ErrorClass, LongTimeout } from '@aiomisc/core';
import {
  InvalidArgumentError,
  Statistic,
  expectFunction,
  expectNumber,
  getLogger,
  setLongTimeout,
} from '@aiomisc/core';

import { errorMatcher } from './error-classes';
import { CircuitBroken } from './errors/circuit-broken-error';
import type { PlainWrapper } from './wrap';

/**
 * The states of a {@link CircuitBreaker}: `PASSING` lets every call through and counts errors,
 * `BROKEN` rejects every call with {@link CircuitBroken}, `RECOVERING` lets a growing sample
 * through.
 *
 * @example
 * ```ts
 * if (breaker.state === CircuitBreakerStates.BROKEN) console.warn('upstream is down');
 * ```
 */
export const CircuitBreakerStates = {
  PASSING: 'PASSING',
  BROKEN: 'BROKEN',
  RECOVERING: 'RECOVERING',
} as const;

/** One of {@link CircuitBreakerStates}. */
export type CircuitBreakerState = (typeof CircuitBreakerStates)[keyof typeof CircuitBreakerStates];

/** Called with the new and the previous state on every state change. */
export type StateChangeListener = (
  state: CircuitBreakerState,
  previous: CircuitBreakerState,
) => void;

/** Options of {@link CircuitBreaker}. Durations are milliseconds. */
export interface CircuitBreakerOptions {
  /** Failures / calls in the window at which PASSING breaks and RECOVERING breaks again (0 < r <= 1). */
  errorRatio: number;
  /** Length of the sliding window the error ratio is measured over (> 0). */
  responseTime: number;
  /** Error classes that count as failures; other errors count as calls only. @default every error */
  exceptions?: readonly ErrorClass[];
  /** How long BROKEN lasts. @default responseTime */
  brokenTime?: number;
  /** After recovering, how long PASSING collects calls before it may break again. @default responseTime */
  passingTime?: number;
  /** How long RECOVERING lasts; the share of calls let through grows from 0 to all over it. @default responseTime */
  recoveryTime?: number;
  /** Decides whether a matching error counts (true) or is ignored (false); a throw counts it. @default undefined */
  exceptionInspector?: (error: unknown) => boolean;
  /** Fewest calls in the window before PASSING may break. @default 10 */
  minimumCalls?: number;
  /** A call that succeeds but takes at least this long counts as a failure. @default null (off) */
  slowCallTime?: number | null;
  /** Called on every state change (also see {@link CircuitBreaker.onStateChange}). @default undefined */
  onStateChange?: StateChangeListener;
  /** Name of the statistic instance in `getStatistics()`. @default null */
  statisticName?: string | null;
}

/**
 * Counters of one {@link CircuitBreaker} (Python names plus `success`, `error`, `slow_calls` and
 * `state_changes`). Calls rejected with {@link CircuitBroken} count in `call_broken` or
 * `call_recovering_failed`, never as errors.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ errorRatio: 0.5, responseTime: 10_000, statisticName: 'db' });
 * breaker.statistic.call_count; // 0
 * ```
 */
export class CircuitBreakerStatistic extends Statistic {
  readonly kind = 'CircuitBreakerStatistic';
  /** Every call, rejected ones included. */
  call_count = 0;
  /** Calls made in PASSING. */
  call_passing = 0;
  /** Calls rejected in BROKEN. */
  call_broken = 0;
  /** Calls made while RECOVERING. */
  call_recovering = 0;
  /** RECOVERING calls let through. */
  call_recovering_ok = 0;
  /** RECOVERING calls rejected (not picked for the sample). */
  call_recovering_failed = 0;
  /** Calls that did not count as failures. */
  success = 0;
  /** Calls that counted as failures (slow calls included). */
  error = 0;
  /** Successful calls counted as failures for being slow. */
  slow_calls = 0;
  /** State changes. */
  state_changes = 0;
  /** The configured `errorRatio`. */
  error_ratio_threshold = 0;
}

const BUCKETS = 10;
const { PASSING, BROKEN, RECOVERING } = CircuitBreakerStates;
const log = getLogger('aiomisc.circuit_breaker');

/** The outcome of a call as the breaker counts it. */
const enum Outcome {
  /** Not counted at all (a CircuitBroken error). */
  Ignored,
  /** A success: counted as a call, clears the last exception. */
  Success,
  /** An error that does not count as a failure: counted as a call only. */
  Call,
  /** A failure. */
  Failure,
}

function positiveDuration(argument: string, value: unknown): number {
  return expectNumber(argument, value, { min: 0 });
}

function checkRatioAndWindow(errorRatio: unknown, responseTime: unknown): void {
  if (typeof errorRatio !== 'number' || !(errorRatio > 0 && errorRatio <= 1)) {
    throw new InvalidArgumentError('errorRatio', errorRatio, 'a number > 0 and <= 1');
  }
  if (typeof responseTime !== 'number' || !(responseTime > 0) || !Number.isFinite(responseTime)) {
    throw new InvalidArgumentError('responseTime', responseTime, 'a finite number > 0');
  }
}

/**
 * A circuit breaker as the seed documents it. PASSING lets calls through and keeps failures and
 * calls of the last `responseTime` in 10 buckets (constant memory); it breaks when the window
 * holds at least `minimumCalls` calls and failures / calls reaches `errorRatio`. BROKEN rejects
 * every call with {@link CircuitBroken} for `brokenTime`. RECOVERING then lets a sample through
 * whose share grows from 0 to all calls over `recoveryTime` (the seed's 2^(t/T) - 1 curve); it
 * breaks again as soon as the sample's ratio reaches `errorRatio`, and passes when `recoveryTime`
 * ends. {@link CircuitBroken} errors are never counted.
 *
 * @throws {@link InvalidArgumentError} for `errorRatio` outside (0, 1], a `responseTime` <= 0, a
 *   negative time or a non-function inspector
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ errorRatio: 0.2, responseTime: 20_000, brokenTime: 5000 });
 * const text = await breaker.call(async (url: string) => (await fetch(url)).text(), 'https://example.com');
 * ```
 */
export class CircuitBreaker {
  /** The breaker's counters (also in `getStatistics()`). */
  readonly statistic: CircuitBreakerStatistic;
  /** The configured error ratio. */
  readonly errorRatio: number;
  /** The configured window length in ms. */
  readonly responseTime: number;
  /** How long BROKEN lasts, in ms. */
  readonly brokenTime: number;
  /** How long PASSING is kept after recovering, in ms. */
  readonly passingTime: number;
  /** How long RECOVERING lasts, in ms. */
  readonly recoveryTime: number;
  /** Fewest calls in the window before PASSING may break. */
  readonly minimumCalls: number;

  readonly #matches: ((error: unknown) => boolean) | null;
  readonly #inspector: ((error: unknown) => boolean) | null;
  readonly #slowCallTime: number | null;
  readonly #listeners = new Set<StateChangeListener>();

  #state: CircuitBreakerState = PASSING;
  #lastError: unknown = undefined;
  #timer: LongTimeout | undefined;
  #passingUntil = -Infinity;
  #stateEnds = Infinity;
  #recoveringSince = 0;
  #recoveryCalls = 0;
  #recoveryFailures = 0;

  readonly #bucketWidth: number;
  readonly #calls = new Float64Array(BUCKETS);
  readonly #failures = new Float64Array(BUCKETS);
  #bucket = 0;
  #bucketEnds = -Infinity;
  #slot = 0;
  #totalCalls = 0;
  #totalFailures = 0;

  readonly #onOk: (value: unknown) => unknown;
  readonly #onError: (error: unknown) => never;
  readonly #onRecoveryOk: (value: unknown) => unknown;
  readonly #onRecoveryError: (error: unknown) => never;

  constructor(options: CircuitBreakerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', options, 'an options object');
    }
    const { errorRatio, responseTime } = options;
    checkRatioAndWindow(errorRatio, responseTime);
    this.errorRatio = errorRatio;
    this.responseTime = responseTime;
    this.brokenTime = positiveDuration('brokenTime', options.brokenTime ?? responseTime);
    this.passingTime = positiveDuration('passingTime', options.passingTime ?? responseTime);
    this.recoveryTime = positiveDuration('recoveryTime', options.recoveryTime ?? responseTime);
    this.minimumCalls = expectNumber('minimumCalls', options.minimumCalls ?? 10, {
      min: 1,
      integer: true,
    });
    this.#slowCallTime =
      options.slowCallTime === undefined || options.slowCallTime === null
        ? null
        : positiveDuration('slowCallTime', options.slowCallTime);
    this.#matches =
      options.exceptions === undefined ? null : errorMatcher('exceptions', options.exceptions);
    this.#inspector =
      options.exceptionInspector === undefined
        ? null
        : expectFunction('exceptionInspector', options.exceptionInspector);
    if (options.onStateChange !== undefined) {
      this.#listeners.add(expectFunction('onStateChange', options.onStateChange));
    }
    this.#bucketWidth = responseTime / BUCKETS;
    this.statistic = new CircuitBreakerStatistic(options.statisticName ?? null);
    this.statistic.error_ratio_threshold = errorRatio;

    this.#onOk = (value) => {
      if (this.#state === PASSING) this.#recordSuccess();
      return value;
    };
    this.#onError = (error) => {
      if (this.#state === PASSING) this.#record(this.#classify(error), error);
      throw error;
    };
    this.#onRecoveryOk = (value) => {
      if (this.#state === RECOVERING) this.#recordRecovery(Outcome.Success, undefined);
      return value;
    };
    this.#onRecoveryError = (error) => {
      if (this.#state === RECOVERING) this.#recordRecovery(this.#classify(error), error);
      throw error;
    };
  }

  /** The current state. */
  get state(): CircuitBreakerState {
    return this.#state;
  }

  /** The last failure counted (cleared by a success); what {@link CircuitBroken} carries. */
  get lastException(): unknown {
    return this.#lastError;
  }

  /** Calls and failures in the current PASSING window. */
  get window(): { calls: number; failures: number } {
    this.#advance(Date.now());
    return { calls: this.#totalCalls, failures: this.#totalFailures };
  }

  /** Milliseconds before the state may change on its own (0 when PASSING may break at any call). */
  get stateDelay(): number {
    const now = Date.now();
    const until = this.#state === PASSING ? this.#passingUntil : this.#stateEnds;
    return Math.max(0, until - now);
  }

  /**
   * Subscribes to state changes; returns the function that unsubscribes.
   *
   * @example
   * ```ts
   * const off = breaker.onStateChange((state, previous) => log.warn({ state, previous }, 'breaker'));
   * off();
   * ```
   */
  onStateChange(listener: StateChangeListener): () => void {
    expectFunction('listener', listener);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Calls `fn(...args)` through the breaker. Rejects with {@link CircuitBroken} without calling
   * `fn` when BROKEN, or when RECOVERING and the call is not picked for the sample.
   *
   * @example
   * ```ts
   * const user = await breaker.call(fetchUser, '42');
   * ```
   */
  call<TArgs extends unknown[], TResult>(
    fn: (...args: TArgs) => TResult | PromiseLike<TResult>,
    ...args: TArgs
  ): Promise<TResult> {
    return this.#run(fn as (...args: unknown[]) => unknown, undefined, args) as Promise<TResult>;
  }

  /**
   * Wraps a function so that every call goes through this breaker; also a TypeScript 5 method
   * decorator (`@breaker.wrap`).
   *
   * @example
   * ```ts
   * const fetchUser = breaker.wrap(async (id: string) => db.users.get(id));
   * ```
   */
  wrap<TThis, TArgs extends unknown[], TResult>(
    fn: (this: TThis, ...args: TArgs) => TResult | PromiseLike<TResult>,
    _context?: ClassMethodDecoratorContext<
      TThis,
      (this: TThis, ...args: TArgs) => TResult | PromiseLike<TResult>
    >,
  ): (this: TThis, ...args: TArgs) => Promise<TResult> {
    expectFunction('fn', fn);
    const run = this.#run.bind(this);
    return function wrapped(this: TThis, ...args: TArgs) {
      return run(fn as (...args: unknown[]) => unknown, this, args) as Promise<TResult>;
    };
  }

  /**
   * The scoped form, for code that is not one function. Throws {@link CircuitBroken} at once when
   * the call is not let through. Mark the outcome with `success()` or `failure(error)`; a scope
   * disposed without either counts as a failure (the breaker cannot see the exception).
   *
   * @example
   * ```ts
   * {
   *   using scope = breaker.enter();
   *   const response = await fetch(url);
   *   if (response.status >= 500) scope.failure(new Error(`status ${response.status}`));
   *   else scope.success();
   * }
   * ```
   */
  enter(): CircuitBreakerScope {
    const recovering = this.#admit();
    const started = Date.now();
    let open = true;
    const settle = (outcome: Outcome, error: unknown) => {
      if (!open) return;
      open = false;
      if (
        outcome === Outcome.Success &&
        this.#slowCallTime !== null &&
        Date.now() - started >= this.#slowCallTime
      ) {
        this.statistic.slow_calls++;
        outcome = Outcome.Failure;
      }
      if (recovering) {
        if (this.#state === RECOVERING) this.#recordRecovery(outcome, error);
      } else if (this.#state === PASSING) {
        this.#record(outcome, error);
      }
    };
    const scope: CircuitBreakerScope = {
      success: () => settle(Outcome.Success, undefined),
      failure: (error: unknown) => settle(this.#classify(error), error),
      [Symbol.dispose]: () => settle(Outcome.Failure, this.#lastError),
      [Symbol.asyncDispose]: () => {
        settle(Outcome.Failure, this.#lastError);
        return Promise.resolve();
      },
    };
    return scope;
  }

  /**
   * Returns true for a call let through in RECOVERING, false in PASSING; throws CircuitBroken when
   * the call is rejected. Counts the call in the statistic.
   */
  #admit(): boolean {
    const statistic = this.statistic;
    statistic.call_count++;
    if (this.#state === PASSING) {
      statistic.call_passing++;
      return false;
    }
    if (this.#state === BROKEN) {
      statistic.call_broken++;
      throw new CircuitBroken(this.#lastError);
    }
    statistic.call_recovering++;
    const chance = 2 ** ((Date.now() - this.#recoveringSince) / this.recoveryTime) - 1;
    if (Math.random() < chance) {
      statistic.call_recovering_ok++;
      return true;
    }
    statistic.call_recovering_failed++;
    throw new CircuitBroken(this.#lastError);
  }

  #run(fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]): Promise<unknown> {
    let recovering: boolean;
    if (this.#state === PASSING) {
      this.statistic.call_count++;
      this.statistic.call_passing++;
      recovering = false;
    } else {
      try {
        recovering = this.#admit();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    let result: unknown;
    try {
      result = fn.apply(thisArg, args);
    } catch (error) {
      result = Promise.reject(error);
    }
    const promise = result instanceof Promise ? result : Promise.resolve(result);
    if (this.#slowCallTime !== null) return this.#timed(promise, recovering);
    return recovering
      ? promise.then(this.#onRecoveryOk, this.#onRecoveryError)
      : promise.then(this.#onOk, this.#onError);
  }

  #timed(promise: Promise<unknown>, recovering: boolean): Promise<unknown> {
    const started = Date.now();
    const slowCallTime = this.#slowCallTime!;
    return promise.then(
      (value) => {
        let outcome = Outcome.Success;
        if (Date.now() - started >= slowCallTime) {
          this.statistic.slow_calls++;
          outcome = Outcome.Failure;
        }
        if (recovering) {
          if (this.#state === RECOVERING) this.#recordRecovery(outcome, undefined);
        } else if (this.#state === PASSING) {
          this.#record(outcome, undefined);
        }
        return value;
      },
      recovering ? this.#onRecoveryError : this.#onError,
    );
  }

  #classify(error: unknown): Outcome {
    if (CircuitBroken.isInstance(error)) return Outcome.Ignored;
    if (this.#matches !== null && !this.#matches(error)) return Outcome.Call;
    if (this.#inspector === null) return Outcome.Failure;
    try {
      return this.#inspector(error) ? Outcome.Failure : Outcome.Call;
    } catch (inspectorError) {
      log.error(
        { err: inspectorError },
        'exceptionInspector failed; counting the error as a failure',
      );
      return Outcome.Failure;
    }
  }

  /** Moves the window to the bucket of `now`, emptying the buckets that fell out of it. */
  #advance(now: number): void {
    const bucket = Math.floor(now / this.#bucketWidth);
    const last = this.#bucket;
    if (bucket <= last) return;
    const calls = this.#calls;
    const failures = this.#failures;
    if (bucket - last >= BUCKETS) {
      calls.fill(0);
      failures.fill(0);
      this.#totalCalls = 0;
      this.#totalFailures = 0;
    } else {
      for (let index = last + 1; index <= bucket; index++) {
        const slot = index % BUCKETS;
        this.#totalCalls -= calls[slot]!;
        this.#totalFailures -= failures[slot]!;
        calls[slot] = 0;
        failures[slot] = 0;
      }
    }
    this.#bucket = bucket;
    this.#bucketEnds = (bucket + 1) * this.#bucketWidth;
    this.#slot = bucket % BUCKETS;
  }

  /** The hot path of {@link CircuitBreaker.#record} for a success in PASSING. */
  #recordSuccess(): void {
    const now = Date.now();
    if (now >= this.#bucketEnds) this.#advance(now);
    this.#calls[this.#slot]!++;
    this.#totalCalls++;
    this.statistic.success++;
    this.#lastError = undefined;
  }

  #record(outcome: Outcome, error: unknown): void {
    if (outcome === Outcome.Ignored) return;
    const now = Date.now();
    this.#advance(now);
    const slot = this.#slot;
    this.#calls[slot]!++;
    this.#totalCalls++;
    if (outcome !== Outcome.Failure) {
      this.statistic.success++;
      if (outcome === Outcome.Success) this.#lastError = undefined;
      return;
    }
    this.statistic.error++;
    if (error !== undefined) this.#lastError = error;
    this.#failures[slot]!++;
    this.#totalFailures++;
    if (
      now >= this.#passingUntil &&
      this.#totalCalls >= this.minimumCalls &&
      this.#totalFailures >= this.errorRatio * this.#totalCalls
    ) {
      this.#break(now);
    }
  }

  #recordRecovery(outcome: Outcome, error: unknown): void {
    if (outcome === Outcome.Ignored) return;
    this.#recoveryCalls++;
    if (outcome !== Outcome.Failure) {
      this.statistic.success++;
      if (outcome === Outcome.Success) this.#lastError = undefined;
      return;
    }
    this.statistic.error++;
    if (error !== undefined) this.#lastError = error;
    this.#recoveryFailures++;
    if (this.#recoveryFailures >= this.errorRatio * this.#recoveryCalls) this.#break(Date.now());
  }

  #resetWindow(now: number): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#totalCalls = 0;
    this.#totalFailures = 0;
    this.#bucket = Math.floor(now / this.#bucketWidth);
    this.#bucketEnds = (this.#bucket + 1) * this.#bucketWidth;
    this.#slot = this.#bucket % BUCKETS;
  }

  #break(now: number): void {
    this.#resetWindow(now);
    this.#stateEnds = now + this.brokenTime;
    this.#schedule(this.brokenTime, () => this.#recover());
    this.#setState(BROKEN);
  }

  #recover(): void {
    const now = Date.now();
    this.#recoveringSince = now;
    this.#recoveryCalls = 0;
    this.#recoveryFailures = 0;
    this.#stateEnds = now + this.recoveryTime;
    this.#schedule(this.recoveryTime, () => this.#pass());
    this.#setState(RECOVERING);
  }

  #pass(): void {
    const now = Date.now();
    this.#timer = undefined;
    this.#resetWindow(now);
    this.#passingUntil = now + this.passingTime;
    this.#stateEnds = Infinity;
    this.#setState(PASSING);
  }

  #schedule(ms: number, next: () => void): void {
    this.#timer?.clear();
    // A breaker waiting to recover must not keep the process alive.
    this.#timer = setLongTimeout(next, ms).unref();
  }

  #setState(state: CircuitBreakerState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.statistic.state_changes++;
    for (const listener of this.#listeners) {
      try {
        listener(state, previous);
      } catch (error) {
        log.error({ err: error }, 'a circuit breaker state listener failed');
      }
    }
  }
}

/**
 * The scope returned by {@link CircuitBreaker.enter}: mark the outcome, then dispose it
 * (`using`/`await using`). Disposing without a mark counts a failure.
 */
export interface CircuitBreakerScope extends Disposable, AsyncDisposable {
  /** Counts the call as a success (or as a slow call when it took too long). */
  success(): void;
  /** Counts `error` as the breaker counts a thrown error (exceptions filter and inspector apply). */
  failure(error: unknown): void;
}

/**
 * Wraps a function in a {@link CircuitBreaker} of its own (one breaker per wrapped function, or per
 * decorated method definition). Unlike the Python `cutout`, giving no error classes counts every
 * error: the Python one counts nothing then and never breaks.
 *
 * @param ratio - the breaker's `errorRatio`
 * @param responseTime - the breaker's `responseTime` in ms
 * @param exceptions - error classes counted as failures (all errors when none are given)
 * @throws {@link InvalidArgumentError} for the breaker's invalid options
 *
 * @example
 * ```ts
 * const fetchText = cutout(0.2, 30_000, TypeError)(async (url: string) => (await fetch(url)).text());
 * await fetchText('https://example.com'); // CircuitBroken while the breaker is BROKEN
 * ```
 */
export function cutout(
  ratio: number,
  responseTime: number,
  ...exceptions: ErrorClass[]
): PlainWrapper {
  // Validate now, at decoration time, as the seed does.
  checkRatioAndWindow(ratio, responseTime);
  const options: CircuitBreakerOptions = { errorRatio: ratio, responseTime };
  if (exceptions.length > 0) options.exceptions = exceptions;
  errorMatcher('exceptions', exceptions);
  const wrap = (fn: (...args: unknown[]) => unknown) => new CircuitBreaker(options).wrap(fn);
  return wrap as PlainWrapper;
}
