import { expectBoolean, expectNumber, PeriodicCallback, Service } from '@aiomisc/core';
import type { ErrorClass } from '@aiomisc/core';

/** Options of a {@link PeriodicService}. */
export interface PeriodicServiceOptions {
  /** Time between the end of one run and the start of the next, in ms (> 0). Required. */
  interval: number;
  /** Wait before the first run, in ms. @default 0 */
  delay?: number;
  /**
   * Start runs every `interval` ms from the first (start to start, as `setInterval`) instead of
   * `interval` ms after each run ends; a run still going when the next is due makes that one
   * skipped and logged, never stacked. @default false
   */
  fixedRate?: boolean;
  /** The callback's name in logs and statistics. @default the class name */
  name?: string;
  /** A run is not aborted at stop; stop still waits for it. @default false */
  shield?: boolean;
  /** Errors of these classes count as `fail` but are not logged. @default [] */
  suppressExceptions?: readonly ErrorClass[];
}

/**
 * Runs `callback()` every `interval` ms as a service (the seed's `PeriodicService`), on core's
 * {@link PeriodicCallback}: runs never overlap (a slow run pushes the next back, or with
 * `fixedRate` makes the runs it overlaps skipped), errors are logged and counted, and `stop()`
 * waits for a run in flight (its `signal` is aborted unless `shield` is set). Bad options are
 * rejected at construction.
 *
 * @example
 * ```ts
 * class Heartbeat extends PeriodicService {
 *   async callback(signal: AbortSignal) {
 *     await fetch('http://127.0.0.1:8080/ping', { signal });
 *   }
 * }
 * await entrypoint({ services: [new Heartbeat({ interval: 5000 })] }).start();
 * ```
 */
export abstract class PeriodicService<
  TOptions extends PeriodicServiceOptions = PeriodicServiceOptions,
> extends Service<TOptions> {
  static override required: readonly string[] = ['interval'];
  static override asyncRequired: readonly string[] = ['start', 'stop', 'callback'];
  #periodic: PeriodicCallback | undefined;

  constructor(options: TOptions) {
    super(...([options] as ConstructorParameters<typeof Service<TOptions>>));
    expectNumber('interval', this.options.interval, { min: Number.MIN_VALUE });
    expectNumber('delay', this.options.delay ?? 0, { min: 0 });
    expectBoolean('fixedRate', this.options.fixedRate ?? false);
  }

  /** The work of one run; `signal` is aborted when the service stops (unless `shield`). */
  abstract callback(signal: AbortSignal): Promise<unknown>;

  override async start(): Promise<void> {
    const { interval, delay = 0, fixedRate, name, shield, suppressExceptions } = this.options;
    const periodic = new PeriodicCallback((signal) => this.callback(signal), {
      name: name ?? this.constructor.name,
    });
    periodic.start(interval, { delay, fixedRate, shield, suppressExceptions });
    this.#periodic = periodic;
  }

  /** Stops the schedule and waits for a run in flight. A second stop is a no-op. */
  override async stop(): Promise<void> {
    const periodic = this.#periodic;
    this.#periodic = undefined;
    if (periodic?.isRunning) await periodic.stop();
  }

  override toString(): string {
    return `${this.constructor.name}(interval=${this.options.interval},delay=${this.options.delay ?? 0})`;
  }
}
