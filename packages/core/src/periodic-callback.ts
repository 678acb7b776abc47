import {
  RecurringCallback,
  type RecurringStartOptions,
  startAtFixedRate,
} from './recurring-callback';
import { expectBoolean, expectNumber } from './validate';

/** Options of {@link PeriodicCallback.start}. */
export interface PeriodicStartOptions extends RecurringStartOptions {
  /** Wait before the first run, in ms. @default 0 */
  delay?: number;
  /**
   * Start runs every `interval` ms from the first one (start to start, as `setInterval`) rather
   * than `interval` ms after each run ends; a run still going when the next is due makes that
   * one skipped and logged, never stacked. @default false
   */
  fixedRate?: boolean;
}

/**
 * Runs a callback every `interval` ms (after an optional first `delay`); runs never overlap,
 * so a slow run pushes the next one back (with `fixedRate`, the runs it overlapped are skipped
 * instead). `stop()` waits for a run in flight. Statistics as {@link RecurringCallback}.
 *
 * @example
 * ```ts
 * const heartbeat = new PeriodicCallback(async () => ping(), { name: 'heartbeat' });
 * heartbeat.start(5000, { delay: 1000 });
 * await heartbeat.stop();
 * ```
 */
export class PeriodicCallback {
  readonly #recurring: RecurringCallback;

  constructor(fn: (signal: AbortSignal) => unknown, options: { name?: string } = {}) {
    this.#recurring = new RecurringCallback(fn, options);
  }

  /** The callback's name in logs and statistics. */
  get name(): string {
    return this.#recurring.name;
  }

  /** True while it runs. */
  get isRunning(): boolean {
    return this.#recurring.isRunning;
  }

  /**
   * Starts running every `interval` ms.
   * @throws {@link InvalidArgumentError} for an interval that is not a positive number, a negative
   * delay or a `fixedRate` that is not a boolean.
   * @throws {@link InvalidStateError} when it is already running.
   */
  start(interval: number, options: PeriodicStartOptions = {}): void {
    const every = expectNumber('interval', interval, { min: Number.MIN_VALUE });
    const delay = expectNumber('delay', options.delay ?? 0, { min: 0 });
    const fixedRate = expectBoolean('fixedRate', options.fixedRate ?? false);
    let first = true;
    const strategy = () => {
      if (!first) return every;
      first = false;
      return delay;
    };
    if (fixedRate) this.#recurring[startAtFixedRate](strategy, options);
    else this.#recurring.start(strategy, options);
  }

  /**
   * Stops it and waits for a run in flight.
   * @throws {@link InvalidStateError} when it is not running.
   */
  stop(): Promise<void> {
    return this.#recurring.stop();
  }
}
