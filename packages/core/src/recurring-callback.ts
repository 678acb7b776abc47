import { AwaitChain } from './await-chain';
import { InvalidStateError } from './errors/invalid-state-error';
import { StrategySkip, StrategyStop } from './errors/strategy';
import { getLogger } from './logger';
import { type LongTimeout, setLongTimeout } from './long-timeout';
import { Statistic } from './statistic';
import { expectFunction } from './validate';

/** Counters of a {@link RecurringCallback}, named after the callback. `sum_time` is in ms. */
export class RecurringCallbackStatistic extends Statistic {
  readonly kind = 'RecurringCallbackStatistic';
  call_count = 0;
  done = 0;
  fail = 0;
  sum_time = 0;
}

/**
 * Decides the delay (ms) before the next run; it may also throw {@link StrategySkip} to wait
 * without running, or {@link StrategyStop} to end. A non-number ends the loop with a warning,
 * a negative number counts as 0.
 */
export type RecurringStrategy = (callback: RecurringCallback) => number | Promise<number>;

/** An error class (or any constructor) for `suppressExceptions`. */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/** Options of {@link RecurringCallback.start}. */
export interface RecurringStartOptions {
  /** A run is not aborted at stop; stop still waits for it. @default false */
  shield?: boolean;
  /** Errors of these classes count as `fail` but are not logged. @default [] */
  suppressExceptions?: readonly ErrorClass[];
}

const log = getLogger('aiomisc.recurring');

/**
 * @internal PeriodicCallback's way to start the loop at a fixed rate: the next timer is armed
 * when a run starts (start to start, as `setInterval`), and a run still going when the next one
 * is due makes that one skipped and logged.
 */
export const startAtFixedRate = Symbol.for('aiomisc.recurring.startAtFixedRate');

/**
 * Runs a callback over and over, asking a strategy for the delay before each run. Runs never
 * overlap: the next delay starts when the run ends. Errors are counted and logged, and the
 * loop goes on. `stop()` aborts the signal the run received and waits for it; a run that ends
 * because of that (it rejects once its signal aborted) counts as neither done nor failed.
 * Awaiting `stop()` from inside the callback does not wait for the run itself.
 *
 * The loop is driven by the timer and the run's own promise, so a tick costs one timer and,
 * for an async callback, two promises; it installs no async hooks.
 *
 * @example
 * ```ts
 * const poll = new RecurringCallback(async (signal) => refresh({ signal }), { name: 'refresh' });
 * poll.start(() => (isBusy() ? 5000 : 1000));
 * // later
 * await poll.stop();
 * ```
 */
export class RecurringCallback {
  /** The callback's name in logs and statistics. */
  readonly name: string;
  readonly #fn: (signal: AbortSignal) => unknown;
  readonly #statistic: RecurringCallbackStatistic;
  readonly #runs: AwaitChain;
  #loop: Loop | undefined;
  #finished: Promise<void> | undefined;

  constructor(fn: (signal: AbortSignal) => unknown, options: { name?: string } = {}) {
    this.#fn = expectFunction('fn', fn);
    this.name = options.name ?? (fn.name || 'anonymous');
    this.#statistic = new RecurringCallbackStatistic(this.name);
    this.#runs = new AwaitChain(`run of ${this.name}`);
  }

  /** True while the loop runs. */
  get isRunning(): boolean {
    return this.#loop !== undefined;
  }

  /** Resolves when the loop ends (stop, StrategyStop, a bad delay); undefined when not running. */
  get finished(): Promise<void> | undefined {
    return this.#finished;
  }

  /**
   * Starts the loop.
   * @throws {@link InvalidStateError} when it is already running.
   */
  start(strategy: RecurringStrategy, options: RecurringStartOptions = {}): void {
    this.#start(strategy, options, false);
  }

  /** @internal see {@link startAtFixedRate}. */
  [startAtFixedRate](strategy: RecurringStrategy, options: RecurringStartOptions = {}): void {
    this.#start(strategy, options, true);
  }

  #start(strategy: RecurringStrategy, options: RecurringStartOptions, fixedRate: boolean): void {
    expectFunction('strategy', strategy);
    if (this.#loop) throw new InvalidStateError(`${this.name} is already running`);
    const loop = new Loop(
      this,
      this.#fn,
      strategy,
      options,
      this.#statistic,
      this.#runs,
      fixedRate,
    );
    this.#loop = loop;
    this.#finished = loop.finished.then(() => {
      if (this.#loop === loop) {
        this.#loop = undefined;
        this.#finished = undefined;
      }
    });
    loop.next();
  }

  /**
   * Ends the loop: aborts the pending delay and the running callback's signal (unless
   * shielded), then waits for the run in flight.
   * @throws {@link InvalidStateError} when it was never started or already ended.
   */
  async stop(): Promise<void> {
    const loop = this.#loop;
    const finished = this.#finished;
    if (!loop || !finished) throw new InvalidStateError(`${this.name}: callback not started`);
    loop.abort(new InvalidStateError(`${this.name} stopped`));
    // Called from inside the callback, waiting for the run would wait for itself: the loop
    // ends as soon as this run returns.
    if (loop.isCalledFromRun()) return;
    await finished;
  }
}

/**
 * One started loop: strategy, delay, run, again; driven by callbacks rather than awaits.
 * Plain private fields, not #fields: this is the per-tick path, and V8 11 reaches #fields and
 * private methods more slowly.
 */
class Loop {
  readonly finished: Promise<void>;
  private readonly owner: RecurringCallback;
  private readonly fn: (signal: AbortSignal) => unknown;
  private readonly strategy: RecurringStrategy;
  private readonly statistic: RecurringCallbackStatistic;
  private readonly runs: AwaitChain;
  private readonly suppress: readonly ErrorClass[];
  private readonly controller = new AbortController();
  /** What the callback receives: the loop's signal, or one that never aborts when shielded. */
  private readonly runSignal: AbortSignal;
  private end!: () => void;
  private timer: LongTimeout | undefined;
  /** A run or an async strategy is in flight; the loop ends when it settles. */
  private busy = false;
  /** The callback's synchronous part is executing. */
  private inSyncRun = false;
  private ended = false;
  /** Start time of the async run in flight (one run at a time). */
  private runT0 = 0;
  /** Arm the next timer when a run starts, and skip a due run while one is going. */
  private readonly fixedRate: boolean;
  /** Fixed rate: due runs skipped while the current run goes on. */
  private skipped = 0;

  constructor(
    owner: RecurringCallback,
    fn: (signal: AbortSignal) => unknown,
    strategy: RecurringStrategy,
    options: RecurringStartOptions,
    statistic: RecurringCallbackStatistic,
    runs: AwaitChain,
    fixedRate: boolean,
  ) {
    this.owner = owner;
    this.fixedRate = fixedRate;
    this.fn = fn;
    this.strategy = strategy;
    this.statistic = statistic;
    this.runs = runs;
    this.suppress = options.suppressExceptions ?? [];
    this.runSignal = options.shield ? new AbortController().signal : this.controller.signal;
    this.finished = new Promise((resolve) => (this.end = resolve));
    this.controller.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  abort(reason: Error): void {
    this.controller.abort(reason);
  }

  /** True when the caller is the run in flight (its synchronous part or its await chain). */
  isCalledFromRun(): boolean {
    return this.inSyncRun || (this.busy && this.runs.includesCaller());
  }

  /** Asks the strategy for the next delay. */
  next(): void {
    if (this.controller.signal.aborted) return this.finish();
    let delay: unknown;
    try {
      delay = this.strategy(this.owner);
    } catch (error) {
      return this.strategyFailed(error);
    }
    if (!isThenable(delay)) return this.wait(delay);
    this.busy = true;
    Promise.resolve(delay).then(
      (value) => {
        this.busy = false;
        this.wait(value);
      },
      (error: unknown) => {
        this.busy = false;
        this.strategyFailed(error);
      },
    );
  }

  private wait(delay: unknown): void {
    if (this.controller.signal.aborted) return this.finish();
    const name = this.owner.name;
    if (typeof delay !== 'number' || Number.isNaN(delay)) {
      log.warn(`${name}: strategy returned ${String(delay)}, not a delay; stopping`);
      return this.finish();
    }
    if (delay < 0) log.warn(`${name}: strategy returned a negative delay ${delay}; using 0`);
    this.timer = setLongTimeout(this.fixedRate ? this.due : this.run, Math.max(0, delay));
  }

  private strategyFailed(error: unknown): void {
    if (this.controller.signal.aborted) return this.finish();
    if (StrategySkip.isInstance(error)) {
      this.timer = setLongTimeout(this.afterSkip, error.delayMs);
      return;
    }
    if (!StrategyStop.isInstance(error))
      log.error({ err: error }, `${this.owner.name}: strategy failed; stopping`);
    this.finish();
  }

  private readonly afterSkip = (): void => this.next();

  /**
   * Fixed rate: a run is due. Arms the next one first, then runs, unless the previous run is
   * still going: then this one is skipped (logged once per run that overran).
   */
  private readonly due = (): void => {
    const running = this.busy;
    this.next();
    if (this.ended) return;
    if (!running) return this.run();
    if (this.skipped++ === 0) {
      log.warn(
        `${this.owner.name}: the previous run is still going; skipping due runs until it ends`,
      );
    }
  };

  private readonly run = (): void => {
    this.skipped = 0;
    this.statistic.call_count++;
    const t0 = performance.now();
    let result: unknown;
    let threw = false;
    this.busy = true;
    this.inSyncRun = true;
    try {
      result = this.fn(this.runSignal);
    } catch (error) {
      threw = true;
      result = error;
    } finally {
      this.inSyncRun = false;
    }
    if (threw) return this.settled(t0, true, result);
    if (!isThenable(result)) return this.settled(t0, false);
    this.runT0 = t0;
    this.runs.track(result, this.onRunSettled);
  };

  private readonly onRunSettled = (failed: boolean, error: unknown): void =>
    this.settled(this.runT0, failed, error);

  private settled(t0: number, failed: boolean, error?: unknown): void {
    this.busy = false;
    const statistic = this.statistic;
    statistic.sum_time += performance.now() - t0;
    if (!failed) statistic.done++;
    else if (this.runSignal.aborted) {
      // A run cut short by stop() is neither done nor failed (the seed re-raises the
      // cancellation and counts nothing). A shielded run's signal never aborts.
      log.debug(`${this.owner.name}: run cut short by stop()`);
    } else {
      statistic.fail++;
      if (!this.suppress.some((errorClass) => error instanceof errorClass)) {
        log.error({ err: error }, `${this.owner.name} failed`);
      }
    }
    if (!this.fixedRate) this.next();
    else if (this.controller.signal.aborted) this.finish();
  }

  private readonly onAbort = (): void => {
    this.timer?.clear();
    this.timer = undefined;
    if (!this.busy) this.finish();
  };

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.timer?.clear();
    this.timer = undefined;
    this.controller.signal.removeEventListener('abort', this.onAbort);
    this.end();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
