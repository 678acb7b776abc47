export { AcquireTimeoutError } from './errors/acquire-timeout-error';
export { FunctionNotFoundError } from './errors/function-not-found-error';
export { PoolClosedError } from './errors/pool-closed-error';
export { WorkerExitedError } from './errors/worker-exited-error';

export { ContextVar } from './context-var';
export {
  closeDefaultThreadPool,
  getDefaultThreadPool,
  registerThreadPoolExtension,
  setDefaultThreadPool,
  THREAD_POOL_EXTENSION,
} from './default-pool';
export {
  DEFAULT_ITERATOR_MAX_SIZE,
  IteratorWrapper,
  IteratorWrapperSeparate,
  threadedIterable,
  threadedIterableSeparate,
} from './iterator-wrapper';
export { isPoolWorker } from './is-pool-worker';
export { PoolBase, PoolBaseStatistic } from './pool-base';
export { ProcessPoolExecutor, ProcessPoolStatistic } from './process-pool-executor';
export { syncWaitCoroutine } from './sync-wait-coroutine';
export { ThreadPoolExecutor, ThreadPoolStatistic } from './thread-pool-executor';
export { threaded, threadedSeparate } from './threaded';
export { WorkerPool, WorkerPoolStatistic } from './worker-pool';
export { workerEntryPoints } from './worker-file';

export type { FunctionReference, FunctionTarget } from './function-reference';
export type { IteratorWrapperOptions, ThreadedIterableFunction } from './iterator-wrapper';
export type { AcquireOptions, PoolBaseOptions, PoolLease } from './pool-base';
export type { ProcessPoolOptions } from './process-pool-executor';
export type { SubmitRest, TargetArgs, TargetResult } from './target-types';
export type { SubmitOptions, ThreadPoolOptions } from './thread-pool-executor';
export type { ThreadedCallOptions, ThreadedFunction, ThreadedOptions } from './threaded';
export type { TaskOptions, WorkerPoolOptions } from './worker-pool';
