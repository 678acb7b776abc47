import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidStateError } from './errors/invalid-state-error';
import { StrategySkip, StrategyStop } from './errors/strategy';
import { getLogger } from './logger';
import { sleep } from './sleep';
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
/** The RecurringCallback whose callback is running in this async context. */
const insideCallback = new AsyncLocalStorage<RecurringCallback>();

/**
 * Runs a callback over and over, asking a strategy for the delay before each run. Runs never
 * overlap: the next delay starts when the run ends. Errors are counted and logged, and the
 * loop goes on. `stop()` aborts the signal the run received and waits for it; a run that ends
 * because of that (it rejects once its signal aborted) counts as neither done nor failed.
 * Awaiting `stop()` from inside the callback does not wait for the run itself.
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
  #controller: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(fn: (signal: AbortSignal) => unknown, options: { name?: string } = {}) {
    this.#fn = expectFunction('fn', fn);
    this.name = options.name ?? (fn.name || 'anonymous');
    this.#statistic = new RecurringCallbackStatistic(this.name);
  }

  /** True while the loop runs. */
  get isRunning(): boolean {
    return this.#loop !== undefined;
  }

  /** Resolves when the loop ends (stop, StrategyStop, a bad delay); undefined when not running. */
  get finished(): Promise<void> | undefined {
    return this.#loop;
  }

  /**
   * Starts the loop.
   * @throws {@link InvalidStateError} when it is already running.
   */
  start(strategy: RecurringStrategy, options: RecurringStartOptions = {}): void {
    expectFunction('strategy', strategy);
    if (this.#loop) throw new InvalidStateError(`${this.name} is already running`);
    const controller = new AbortController();
    this.#controller = controller;
    this.#loop = this.#run(strategy, options, controller.signal).finally(() => {
      if (this.#controller === controller) {
        this.#loop = undefined;
        this.#controller = undefined;
      }
    });
  }

  /**
   * Ends the loop: aborts the pending delay and the running callback's signal (unless
   * shielded), then waits for the run in flight.
   * @throws {@link InvalidStateError} when it was never started or already ended.
   */
  async stop(): Promise<void> {
    if (!this.#loop || !this.#controller)
      throw new InvalidStateError(`${this.name}: callback not started`);
    const loop = this.#loop;
    this.#controller.abort(new InvalidStateError(`${this.name} stopped`));
    // Called from inside the callback, waiting for the run would wait for itself: the loop
    // ends as soon as this run returns.
    if (insideCallback.getStore() === this) return;
    await loop;
  }

  async #run(
    strategy: RecurringStrategy,
    options: RecurringStartOptions,
    signal: AbortSignal,
  ): Promise<void> {
    const { shield = false, suppressExceptions = [] } = options;
    const never = new AbortController().signal;
    while (!signal.aborted) {
      let delay: unknown;
      try {
        delay = await strategy(this);
      } catch (error) {
        if (StrategySkip.isInstance(error)) {
          if (!(await pause(error.delayMs, signal))) return;
          continue;
        }
        if (!StrategyStop.isInstance(error))
          log.error({ err: error }, `${this.name}: strategy failed; stopping`);
        return;
      }
      if (typeof delay !== 'number' || Number.isNaN(delay)) {
        log.warn(`${this.name}: strategy returned ${String(delay)}, not a delay; stopping`);
        return;
      }
      if (delay < 0) {
        log.warn(`${this.name}: strategy returned a negative delay ${delay}; using 0`);
        delay = 0;
      }
      if (!(await pause(delay as number, signal))) return;
      await this.#call(shield ? never : signal, suppressExceptions);
    }
  }

  async #call(signal: AbortSignal, suppressExceptions: readonly ErrorClass[]): Promise<void> {
    const statistic = this.#statistic;
    statistic.call_count++;
    const t0 = performance.now();
    try {
      await insideCallback.run(this, this.#fn, signal);
      statistic.done++;
    } catch (error) {
      // A run cut short by stop() is neither done nor failed (the seed re-raises the
      // cancellation and counts nothing). A shielded run's signal never aborts.
      if (signal.aborted) {
        log.debug(`${this.name}: run cut short by stop()`);
        return;
      }
      statistic.fail++;
      if (!suppressExceptions.some((errorClass) => error instanceof errorClass)) {
        log.error({ err: error }, `${this.name} failed`);
      }
    } finally {
      statistic.sum_time += performance.now() - t0;
    }
  }
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, { signal });
    return true;
  } catch {
    return false;
  }
}
