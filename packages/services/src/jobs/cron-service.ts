import { expectFunction, getLogger, InvalidArgumentError, Service } from '@aiomisc/core';
import type { CronStartOptions } from './cron-callback';
import { parseCronSpec } from './cron-spec';
import { CronScheduler, type CronJob } from './cron-scheduler';
import { CronLock, type CronLockOptions } from './redis-lock';

/** Options of {@link CronService}. */
export interface CronServiceOptions {
  /**
   * Run each due run once across replicas: every process running the same schedule asks
   * Redis for a lock per job and due time (`SET NX PX`); the one that gets it runs. Jobs then
   * need a `name` that is the same in every replica. @default undefined (no lock)
   */
  lock?: CronLockOptions;
}

/** Options of {@link CronService.register}. */
export interface CronRegisterOptions extends CronStartOptions {
  /** The job's name in logs, statistics and lock keys. @default fn.name */
  name?: string;
}

const log = getLogger('aiomisc.cron');

/**
 * Runs registered callbacks on cron schedules as one service (the seed's `CronService`), all
 * on one timer. `register()` works before and after start; a bad spec is an error at
 * `register()`. Overlapping runs are skipped and logged; `stop()` waits for running jobs
 * (bounded by the entrypoint's `shutdownTimeout`). With the `lock` option, N replicas run each
 * due run once.
 *
 * @example
 * ```ts
 * const cron = new CronService();
 * cron.register(async () => rotateLogs(), '0 0 * * *', { name: 'rotate' });
 * await entrypoint({ services: [cron] }).start();
 * ```
 */
export class CronService<
  TOptions extends CronServiceOptions = CronServiceOptions,
> extends Service<TOptions> {
  readonly #jobs: CronJob[] = [];
  readonly #lock: CronLock | undefined;
  #scheduler: CronScheduler | undefined;

  constructor(...options: Partial<TOptions> extends TOptions ? [TOptions?] : [TOptions]) {
    super(...(options as ConstructorParameters<typeof Service<TOptions>>));
    this.#lock = this.options.lock ? new CronLock(this.options.lock) : undefined;
  }

  /** The registered jobs' names and next due times (undefined before start). */
  get jobs(): { name: string; spec: string; nextRun: Date | undefined }[] {
    return this.#jobs.map((job) => ({
      name: job.name,
      spec: job.spec,
      nextRun: this.#scheduler?.nextRun(job),
    }));
  }

  /** Timers this service has armed: 0 or 1, whatever the number of jobs. */
  get timerCount(): number {
    return this.#scheduler?.timerCount ?? 0;
  }

  /**
   * Adds a job; after start it is scheduled at once.
   * @throws {@link InvalidArgumentError} for a bad spec or time zone, a non-function, or (with
   *   `lock`) a job without a name.
   */
  register(
    fn: (signal: AbortSignal) => unknown,
    spec: string,
    options: CronRegisterOptions = {},
  ): void {
    expectFunction('fn', fn);
    const { expression, firstAt, parsedAt } = parseCronSpec(spec, options.timeZone);
    const name = options.name ?? fn.name;
    if (!name && this.#lock) {
      throw new InvalidArgumentError(
        'name',
        options.name,
        'a job name shared by the replicas when the lock option is set',
      );
    }
    const job = CronScheduler.createJob({
      name: name || 'anonymous',
      spec,
      fn,
      expression,
      firstAt,
      parsedAt,
      shield: options.shield,
      suppressExceptions: options.suppressExceptions,
    });
    this.#jobs.push(job);
    this.#scheduler?.add(job);
  }

  override async start(): Promise<void> {
    await this.#lock?.open();
    const scheduler = new CronScheduler(this.#lock);
    const now = Date.now();
    for (const job of this.#jobs) scheduler.add(job, now);
    scheduler.start();
    this.#scheduler = scheduler;
    if (this.#jobs.length === 0) log.debug(`${this.constructor.name}: started with no jobs`);
  }

  /** Stops the timer, aborts running jobs (unless shielded) and waits for them. */
  override async stop(): Promise<void> {
    const scheduler = this.#scheduler;
    this.#scheduler = undefined;
    try {
      await scheduler?.stop();
    } finally {
      this.#lock?.close();
    }
  }
}
