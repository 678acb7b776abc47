import { workerState } from './task-runner';

/**
 * True inside a thread or process of this package's pools (a `threaded` call, a separate
 * thread, a `WorkerPool` or `ProcessPoolExecutor` process), false in the app itself. A worker
 * imports the module of the function it runs, so a module that both defines pool functions and
 * runs the app guards the app's part with it (`isMainThread` alone does not tell a pool
 * process from the app): the counterpart of Python's `if __name__ == '__main__':`.
 *
 * @example
 * ```ts
 * if (!isPoolWorker()) await main();
 * ```
 */
export function isPoolWorker(): boolean {
  return workerState.inWorker;
}
