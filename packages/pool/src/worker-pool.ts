import { defaultPoolSize, expectNumber, InvalidArgumentError } from '@aiomisc/core';
import { toReference, type FunctionReference, type FunctionTarget } from './function-reference';
import { expectExecArgv } from './exec-argv';
import { ForkCounters, ForkPool } from './fork-pool';
import type { SubmitRest, TargetArgs, TargetResult } from './target-types';

/**
 * Counters of a {@link WorkerPool}, named as in the Python `WorkerPoolStatistic`.
 *
 * @example
 * ```ts
 * new WorkerPool(2, { statisticName: 'thumbnails' });
 * console.log(getStatistics('WorkerPoolStatistic'));
 * ```
 */
export class WorkerPoolStatistic extends ForkCounters {
  readonly kind = 'WorkerPoolStatistic';
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** A function every process runs once before its first task (a reference or a threaded function). @default undefined */
  initializer?: FunctionTarget;
  /** Arguments of the initializer. @default [] */
  initializerArgs?: readonly unknown[];
  /** Node flags of the processes (e.g. `['--import', 'tsx']`). @default process.execArgv without eval/print flags, `--inspect*` on port 0 */
  execArgv?: readonly string[];
  /** Environment of the processes. @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Tasks sent ahead to a busy process when no process is idle, so it never waits for the
   * IPC round trip. A process still runs one task at a time; a task sent ahead waits for the
   * one before it (and stays cancellable until it starts). 0 sends a task only to an idle
   * process.
   * @default 8
   */
  prefetch?: number;
  /** Name of the pool's statistic in `getStatistics()`. @default null */
  statisticName?: string | null;
}

/** Options of one task. */
export interface TaskOptions {
  /** Cancels the task: a queued one is dropped; a running one has its process killed (and replaced). Rejects with `signal.reason`. @default undefined */
  signal?: AbortSignal;
}

/**
 * A pool of forked Node processes that run functions of your modules, the port of
 * `aiomisc.WorkerPool`: the IPC is asynchronous on the caller's side, each process runs one task
 * at a time, and the tasks are taken in order. Functions cannot cross processes, so a task
 * names its function: a {@link FunctionReference} (`{ moduleUrl: import.meta.url, name }`, an
 * export or a `threaded`-registered function) or a function made by `threaded`. Arguments and
 * results cross by structured clone; errors keep class name, message and stack.
 *
 * A process that dies (`process.exit`, a crash) fails only its own task and is replaced. An
 * initializer that throws fails every pending task and closes the pool, as in the Python. No
 * child outlives the pool: `close()` waits for them all to exit, and a process exit kills any
 * left. Idle processes do not keep the parent alive.
 *
 * @example
 * ```ts
 * // thumbnails.ts
 * export function thumbnail(src: string, dest: string, size: number) {
 *   execFileSync('convert', [src, '-thumbnail', `${size}x${size}`, dest]);
 *   return dest;
 * }
 * // main.ts
 * await using pool = new WorkerPool(4);
 * const ref = { moduleUrl: new URL('./thumbnails.js', import.meta.url).href, name: 'thumbnail' };
 * await Promise.all(images.map((src) => pool.createTask(ref, src, `thumbs/${basename(src)}`, 128)));
 * ```
 */
export class WorkerPool implements AsyncDisposable {
  /** Number of processes. */
  readonly size: number;
  /** @internal */
  protected readonly pool: ForkPool;
  readonly #statistic: WorkerPoolStatistic;

  /**
   * @param size Number of processes. @default CPU count clamped to 4..32
   * @throws {@link InvalidArgumentError} for a size below 1 or a bad initializer.
   */
  constructor(size: number = defaultPoolSize(), options: WorkerPoolOptions = {}) {
    this.size = expectNumber('size', size, { min: 1, max: 1024, integer: true });
    const initializer: FunctionReference | undefined =
      options.initializer === undefined
        ? undefined
        : toReference('initializer', options.initializer);
    if (options.initializerArgs !== undefined && !Array.isArray(options.initializerArgs)) {
      throw new InvalidArgumentError('initializerArgs', options.initializerArgs, 'an array');
    }
    this.#statistic = new WorkerPoolStatistic(options.statisticName);
    this.pool = new ForkPool(this.size, {
      initializer,
      initializerArgs: options.initializerArgs,
      execArgv: expectExecArgv(options.execArgv),
      env: options.env,
      prefetch: expectNumber('prefetch', options.prefetch ?? 8, { min: 0, max: 64, integer: true }),
      statistic: this.#statistic,
    });
  }

  /** PIDs of the live processes. */
  get pids(): number[] {
    return this.pool.pids;
  }

  /** True once `close()` was called (or the initializer failed). */
  get closed(): boolean {
    return this.pool.closed;
  }

  /**
   * Resolves once every process has started and run the initializer; optional, tasks queue
   * until then anyway. Rejects with the initializer's error when it failed.
   */
  async start(): Promise<this> {
    await this.pool.ready();
    return this;
  }

  /**
   * Runs `target(...args)` in a worker process and resolves with its result.
   * @throws {@link PoolClosedError} (rejects) after `close()`; {@link WorkerExitedError} when the process died running it.
   */
  createTask<TResult = never, TTarget extends FunctionTarget = FunctionTarget>(
    target: TTarget,
    ...args: TargetArgs<TTarget>
  ): Promise<TargetResult<TTarget, TResult>>;
  createTask(target: FunctionTarget, ...args: unknown[]): Promise<unknown> {
    return this.pool.submit(target, args);
  }

  /** {@link WorkerPool.createTask} with options (an AbortSignal). */
  submit<TResult = never, TTarget extends FunctionTarget = FunctionTarget>(
    target: TTarget,
    ...rest: SubmitRest<TTarget, TaskOptions>
  ): Promise<TargetResult<TTarget, TResult>>;
  submit(
    target: FunctionTarget,
    args: readonly unknown[] = [],
    options: TaskOptions = {},
  ): Promise<unknown> {
    return this.pool.submit(target, args, options.signal);
  }

  /**
   * Closes the pool: queued and running tasks reject with {@link PoolClosedError}, the
   * processes are stopped (SIGKILL after 1 s if busy), and it resolves once all have exited.
   */
  close(): Promise<void> {
    return this.pool.close(false);
  }

  /** Same as {@link WorkerPool.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
