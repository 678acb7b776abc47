import { defaultPoolSize, expectNumber } from '@aiomisc/core';
import { expectExecArgv } from './exec-argv';
import { ForkCounters, ForkPool } from './fork-pool';
import type { FunctionTarget } from './function-reference';
import type { SubmitRest, TargetResult } from './target-types';
import type { TaskOptions } from './worker-pool';

/**
 * Counters of a {@link ProcessPoolExecutor}, named as in the Python `ProcessPoolStatistic`.
 *
 * @example
 * ```ts
 * new ProcessPoolExecutor(2, { statisticName: 'reports' });
 * console.log(getStatistics('ProcessPoolStatistic'));
 * ```
 */
export class ProcessPoolStatistic extends ForkCounters {
  readonly kind = 'ProcessPoolStatistic';
}

/** Options of {@link ProcessPoolExecutor}. */
export interface ProcessPoolOptions {
  /** Node flags of the processes. @default process.execArgv without eval/print flags, `--inspect*` on port 0 */
  execArgv?: readonly string[];
  /** Tasks sent ahead to a busy process, as in {@link WorkerPoolOptions.prefetch}. @default 8 */
  prefetch?: number;
  /** Name of the pool's statistic in `getStatistics()`. @default null */
  statisticName?: string | null;
}

/**
 * A process pool with the `concurrent.futures` shape, the port of
 * `aiomisc.ProcessPoolExecutor`: `submit(target, args)` runs a named function of your module in
 * one of `size` forked processes. Same machinery as {@link WorkerPool}; the difference is
 * `close()`, which lets running tasks finish (Python's `shutdown(wait=True)`).
 *
 * @example
 * ```ts
 * await using pool = new ProcessPoolExecutor(4);
 * const pids = await Promise.all([1, 2, 3, 4].map(() => pool.submit<number>({ moduleUrl: jobsUrl, name: 'sleepAndGetPid' })));
 * ```
 */
export class ProcessPoolExecutor implements AsyncDisposable {
  /** Number of processes. */
  readonly size: number;
  readonly #pool: ForkPool;

  /** @param size Number of processes. @default CPU count clamped to 4..32 */
  constructor(size: number = defaultPoolSize(), options: ProcessPoolOptions = {}) {
    this.size = expectNumber('size', size, { min: 1, max: 1024, integer: true });
    this.#pool = new ForkPool(this.size, {
      execArgv: expectExecArgv(options.execArgv),
      prefetch: expectNumber('prefetch', options.prefetch ?? 8, { min: 0, max: 64, integer: true }),
      statistic: new ProcessPoolStatistic(options.statisticName),
    });
  }

  /** PIDs of the live processes. */
  get pids(): number[] {
    return this.#pool.pids;
  }

  /** Runs `target(...args)` in a process; options as {@link WorkerPool.submit}. */
  submit<TResult = never, TTarget extends FunctionTarget = FunctionTarget>(
    target: TTarget,
    ...rest: SubmitRest<TTarget, TaskOptions>
  ): Promise<TargetResult<TTarget, TResult>>;
  submit(
    target: FunctionTarget,
    args: readonly unknown[] = [],
    options: TaskOptions = {},
  ): Promise<unknown> {
    return this.#pool.submit(target, args, options.signal);
  }

  /** Stops accepting tasks, rejects queued ones, waits for the running ones, stops the processes. */
  close(): Promise<void> {
    return this.#pool.close(true);
  }

  /** Same as {@link ProcessPoolExecutor.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
