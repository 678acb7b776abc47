import type { FunctionTarget } from './function-reference';
import type { ThreadedFunction } from './threaded';

/**
 * The arguments a target takes: those of the function when it is one made by `threaded` (or
 * `threadedSeparate`), else any cloneable values.
 */
export type TargetArgs<TTarget extends FunctionTarget> = [TTarget] extends [
  ThreadedFunction<infer TArgs, infer _TResult>,
]
  ? TArgs
  : unknown[];

/**
 * What a task on `TTarget` resolves with: the threaded function's result, else `TResult` when
 * given explicitly (`submit<number>(ref, ...)`), else `unknown`.
 */
export type TargetResult<TTarget extends FunctionTarget, TResult = never> = [TResult] extends [
  never,
]
  ? [TTarget] extends [ThreadedFunction<infer _TArgs, infer TValue>]
    ? Awaited<TValue>
    : unknown
  : TResult;

/** `[args, options]` of `submit`: `args` is required when the threaded function takes some. */
export type SubmitRest<TTarget extends FunctionTarget, TOptions> = [TTarget] extends [
  ThreadedFunction<infer TArgs, infer _TResult>,
]
  ? [] extends TArgs
    ? [args?: TArgs, options?: TOptions]
    : [args: TArgs, options?: TOptions]
  : [args?: readonly unknown[], options?: TOptions];
