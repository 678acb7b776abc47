import { expectFunction, InvalidStateError } from '@aiomisc/core';
import type { ErrorClass } from '@aiomisc/core';
import { parseCronSpec } from './cron-spec';
import { CronScheduler, type CronJob } from './cron-scheduler';

/** Options of {@link CronCallback.start} and {@link CronService.register}. */
export interface CronStartOptions {
  /**
   * IANA time zone the spec is read in (e.g. `'Europe/Berlin'`). On a spring-forward day a
   * time inside the gap runs once, at the first valid time after it (02:30 → 03:30); on the
   * fall-back day a time in the repeated hour runs once, at its first occurrence. @default 'UTC'
   */
  timeZone?: string;
  /** A run is not aborted at stop; stop still waits for it. @default false */
  shield?: boolean;
  /** Errors of these classes count as `fail` but are not logged. @default [] */
  suppressExceptions?: readonly ErrorClass[];
}

/**
 * Runs a callback on a cron schedule (the seed's `CronCallback`), on **cron-parser**: 5 fields
 * (`minute hour day month weekday`) or 6 with **seconds first**, in a time zone. A run still
 * going when the next is due makes that next run skipped and logged (never stacked); errors
 * are logged and counted in `CronCallbackStatistic`; `stop()` waits for a run in flight.
 *
 * @example
 * ```ts
 * const report = new CronCallback(async () => sendReport(), { name: 'report' });
 * report.start('0 30 2 * * *', { timeZone: 'Europe/Berlin' });
 * await report.stop();
 * ```
 */
export class CronCallback {
  /** The callback's name in logs and statistics. */
  readonly name: string;
  readonly #fn: (signal: AbortSignal) => unknown;
  #scheduler: CronScheduler | undefined;
  #job: CronJob | undefined;

  constructor(fn: (signal: AbortSignal) => unknown, options: { name?: string } = {}) {
    this.#fn = expectFunction('fn', fn);
    this.name = options.name ?? (fn.name || 'anonymous');
  }

  /** True while it is scheduled. */
  get isRunning(): boolean {
    return this.#scheduler !== undefined;
  }

  /** When the next run is due, or undefined when not started. */
  get nextRun(): Date | undefined {
    return this.#job && this.#scheduler?.nextRun(this.#job);
  }

  /**
   * Starts the schedule.
   * @throws {@link InvalidArgumentError} for a bad spec or time zone (naming it).
   * @throws {@link InvalidStateError} when it is already running.
   */
  start(spec: string, options: CronStartOptions = {}): void {
    if (this.#scheduler) throw new InvalidStateError(`${this.name} is already running`);
    const { expression, firstAt, parsedAt } = parseCronSpec(spec, options.timeZone);
    const job = CronScheduler.createJob({
      name: this.name,
      spec,
      fn: this.#fn,
      expression,
      firstAt,
      parsedAt,
      shield: options.shield,
      suppressExceptions: options.suppressExceptions,
    });
    const scheduler = new CronScheduler();
    scheduler.add(job);
    scheduler.start();
    this.#scheduler = scheduler;
    this.#job = job;
  }

  /**
   * Stops the schedule, aborts the running callback's signal (unless shielded) and waits for it.
   * @throws {@link InvalidStateError} when it is not running.
   */
  async stop(): Promise<void> {
    const scheduler = this.#scheduler;
    if (!scheduler) throw new InvalidStateError(`${this.name}: callback not started`);
    this.#scheduler = undefined;
    this.#job = undefined;
    await scheduler.stop();
  }
}
