import { getLogger, setLongTimeout } from '@aiomisc/core';
import type { ErrorClass, LongTimeout } from '@aiomisc/core';
import type { CronExpression } from 'cron-parser';
import { CronCallbackStatistic } from './cron-statistic';
import type { CronLock } from './redis-lock';

const log = getLogger('aiomisc.cron');
const never = new AbortController().signal;
/** A due run later than this is counted as missed, not run (the process was stalled). */
const LATE_LIMIT_MS = 1000;

/** @internal one registered job. */
export interface CronJob {
  readonly name: string;
  readonly spec: string;
  readonly fn: (signal: AbortSignal) => unknown;
  readonly expression: CronExpression;
  readonly shield: boolean;
  readonly suppressExceptions: readonly ErrorClass[];
  readonly statistic: CronCallbackStatistic;
  nextAt: number;
  running: Promise<void> | undefined;
  /** The first due time computed at parse time, and from when (reused by the first add). */
  parsed: { firstAt: number; parsedAt: number } | undefined;
}

/** @internal what a job is made from. */
export interface CronJobInit {
  name: string;
  spec: string;
  fn: (signal: AbortSignal) => unknown;
  expression: CronExpression;
  firstAt?: number;
  parsedAt?: number;
  shield?: boolean;
  suppressExceptions?: readonly ErrorClass[];
}

/**
 * Every job of a CronService (or the one of a CronCallback) on one timer: a binary heap keyed
 * by the next due time, and one timer armed for the earliest. 10,000 jobs cost one timer, and
 * a due time beyond 2^31 ms (a yearly job) goes through core's setLongTimeout.
 * @internal
 */
export class CronScheduler {
  readonly #heap: CronJob[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #lock: CronLock | undefined;
  #timer: LongTimeout | undefined;
  #timerAt = Infinity;
  #controller: AbortController | undefined;

  constructor(lock?: CronLock) {
    this.#lock = lock;
  }

  /** True between start() and stop(). */
  get isRunning(): boolean {
    return this.#controller !== undefined;
  }

  /** Jobs scheduled. */
  get size(): number {
    return this.#heap.length;
  }

  /** Timers armed (0 or 1). */
  get timerCount(): number {
    return this.#timer ? 1 : 0;
  }

  /** The due time of a job, or undefined when not scheduled. */
  nextRun(job: CronJob): Date | undefined {
    return this.#heap.includes(job) ? new Date(job.nextAt) : undefined;
  }

  static createJob(init: CronJobInit): CronJob {
    return {
      name: init.name,
      spec: init.spec,
      fn: init.fn,
      expression: init.expression,
      shield: init.shield ?? false,
      suppressExceptions: init.suppressExceptions ?? [],
      statistic: new CronCallbackStatistic(init.name),
      nextAt: Infinity,
      running: undefined,
      parsed:
        init.firstAt !== undefined && init.parsedAt !== undefined
          ? { firstAt: init.firstAt, parsedAt: init.parsedAt }
          : undefined,
    };
  }

  start(): void {
    this.#controller = new AbortController();
    this.#arm();
  }

  /** Schedules a job from now (at once when started, or when start() is called). */
  add(job: CronJob, now = Date.now()): void {
    // The due time computed at parse time is still the first one after now when it lies
    // ahead of now: nothing can match in between. That saves one next() per job at start.
    const parsed = job.parsed;
    job.parsed = undefined;
    if (parsed && parsed.parsedAt <= now && parsed.firstAt > now) job.nextAt = parsed.firstAt;
    else {
      job.expression.reset(new Date(now));
      job.nextAt = job.expression.next().getTime();
    }
    this.#push(job);
    if (this.#controller && job.nextAt < this.#timerAt) this.#arm();
  }

  /** Clears the timer, aborts running jobs (unless shielded) and waits for them. */
  async stop(): Promise<void> {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#controller?.abort();
    this.#controller = undefined;
    this.#heap.length = 0;
    await Promise.all(this.#running);
  }

  #arm(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const first = this.#heap[0];
    if (!first || !this.#controller) return;
    this.#timerAt = first.nextAt;
    this.#timer = setLongTimeout(() => this.#tick(), Math.max(0, first.nextAt - Date.now()));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = Date.now();
    const signal = this.#controller?.signal;
    if (!signal) return;
    for (let first = this.#heap[0]; first && first.nextAt <= now; first = this.#heap[0]) {
      const job = this.#pop()!;
      const dueAt = job.nextAt;
      if (now - dueAt > LATE_LIMIT_MS) {
        job.statistic.skipped++;
        log.warn(
          `${job.name}: the run due at ${new Date(dueAt).toISOString()} is ${now - dueAt} ms late; skipped`,
        );
      } else this.#fire(job, dueAt, signal);
      try {
        job.nextAt = job.expression.next().getTime();
        if (job.nextAt <= now) {
          job.expression.reset(new Date(now));
          job.nextAt = job.expression.next().getTime();
        }
      } catch (error) {
        // cron-parser found no further match (or gave up searching): the job ends here.
        log.error({ err: error }, `${job.name}: no next run for ${job.spec}; unscheduled`);
        continue;
      }
      this.#push(job);
    }
    this.#arm();
  }

  #fire(job: CronJob, dueAt: number, signal: AbortSignal): void {
    if (job.running) {
      job.statistic.skipped++;
      log.warn(
        `${job.name}: the run due at ${new Date(dueAt).toISOString()} skipped: the previous run is still going`,
      );
      return;
    }
    const run = this.#run(job, dueAt, job.shield ? never : signal).finally(() => {
      job.running = undefined;
      this.#running.delete(run);
    });
    job.running = run;
    this.#running.add(run);
  }

  async #run(job: CronJob, dueAt: number, signal: AbortSignal): Promise<void> {
    const statistic = job.statistic;
    if (this.#lock && !(await this.#lock.acquire(job.name, dueAt))) {
      statistic.locked++;
      return;
    }
    statistic.call_count++;
    const t0 = performance.now();
    try {
      await job.fn(signal);
      statistic.done++;
    } catch (error) {
      statistic.fail++;
      if (!job.suppressExceptions.some((errorClass) => error instanceof errorClass)) {
        log.error({ err: error }, `${job.name} failed`);
      }
    } finally {
      statistic.sum_time += performance.now() - t0;
    }
  }

  #push(job: CronJob): void {
    const heap = this.#heap;
    heap.push(job);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.nextAt <= job.nextAt) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = job;
  }

  #pop(): CronJob | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.nextAt < heap[left]!.nextAt ? right : left;
      if (heap[child]!.nextAt >= last.nextAt) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}
