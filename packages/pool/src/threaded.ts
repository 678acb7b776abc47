import { expectFunction, InvalidArgumentError } from '@aiomisc/core';
import { captureContext } from './context-var';
import { getDefaultThreadPool } from './default-pool';
import { makeReference, registerFunction, type FunctionReference } from './function-reference';
import { runInSeparateThread } from './separate-thread';
import { workerState } from './task-runner';
import type { ThreadPoolExecutor } from './thread-pool-executor';

/** Options of {@link threaded}. */
export interface ThreadedOptions {
  /** The pool to run on. @default the default pool ({@link getDefaultThreadPool}) */
  pool?: ThreadPoolExecutor;
}

/** Options of one call made with `callWith`. */
export interface ThreadedCallOptions {
  /** Cancels the call: queued, it is dropped; running, its thread is terminated. @default undefined */
  signal?: AbortSignal;
  /** Overrides the pool for this call (threaded only). @default the function's pool */
  pool?: ThreadPoolExecutor;
}

const NO_OPTIONS: ThreadedCallOptions = Object.freeze({});

/** What {@link threaded} and {@link threadedSeparate} return. */
export interface ThreadedFunction<TArgs extends unknown[], TResult> {
  /** Runs the function in a worker thread; resolves with its result. */
  (...args: TArgs): Promise<Awaited<TResult>>;
  /** Runs it with options (an AbortSignal, another pool). */
  callWith(options: ThreadedCallOptions, ...args: TArgs): Promise<Awaited<TResult>>;
  /** Calls the function directly in this thread (Python's `sync_call`). */
  syncCall(...args: TArgs): TResult;
  /** Where a worker finds it; pass it to `WorkerPool.createTask` to run it in a process. */
  readonly reference: FunctionReference;
}

function isGeneratorFunction(fn: unknown): boolean {
  const name = (fn as { constructor?: { name?: string } }).constructor?.name;
  return name === 'GeneratorFunction' || name === 'AsyncGeneratorFunction';
}

function register<TArgs extends unknown[], TResult>(
  moduleUrl: string | URL,
  name: string,
  fn: (...args: TArgs) => TResult,
): FunctionReference {
  expectFunction('fn', fn);
  if (isGeneratorFunction(fn)) {
    throw new InvalidArgumentError(
      'fn',
      fn,
      'a plain function; wrap generator functions with threadedIterable()',
    );
  }
  const reference = makeReference(moduleUrl, name);
  registerFunction(reference, fn);
  return reference;
}

function inline<TResult>(fn: () => TResult): Promise<Awaited<TResult>> {
  return new Promise<Awaited<TResult>>((resolve) => resolve(fn() as Awaited<TResult>));
}

/**
 * Makes `fn`, a blocking function of your own module, run in a worker thread of the pool
 * (the default pool unless `options.pool`): calling the result sends the arguments to a thread,
 * which imports your module (`moduleUrl`: `import.meta.url` in ESM, `__filename` in CJS), finds
 * `fn` under `name` and calls it. The module's imports work as usual there. Arguments, the
 * result and thrown errors cross threads by structured clone; an error keeps its class name,
 * message and stack. {@link ContextVar} values set by the caller reach the function.
 *
 * The module is evaluated again in each worker thread, so keep side effects (starting an
 * entrypoint, listening on a port) out of modules that define threaded functions, or guard
 * them with `isPoolWorker()`. Called inside a worker thread, a threaded function runs inline.
 *
 * @param moduleUrl `import.meta.url` or `__filename` of the module that calls `threaded`.
 * @param name Unique name of the function within its module (use the export name).
 * @throws {@link InvalidArgumentError} for a bad URL, an empty name, or a generator function.
 *
 * @example
 * ```ts
 * import { createHash } from 'node:crypto';
 * import { threaded } from '@aiomisc/pool';
 *
 * export const sha256 = threaded(import.meta.url, 'sha256', (data: string) =>
 *   createHash('sha256').update(data).digest('hex'),
 * );
 *
 * console.log(await sha256('hello')); // computed in a worker thread
 * ```
 */
export function threaded<TArgs extends unknown[], TResult>(
  moduleUrl: string | URL,
  name: string,
  fn: (...args: TArgs) => TResult,
  options: ThreadedOptions = {},
): ThreadedFunction<TArgs, TResult> {
  const reference = register(moduleUrl, name, fn);
  const { moduleUrl: url } = reference;
  const call = (callOptions: ThreadedCallOptions, args: TArgs): Promise<Awaited<TResult>> => {
    if (workerState.inWorker) return inline(() => fn(...args));
    let pool: ThreadPoolExecutor;
    try {
      pool = callOptions.pool ?? options.pool ?? getDefaultThreadPool();
    } catch (error) {
      // The default pool could not start (a worker file missing from a bundle): a rejection.
      return Promise.reject(error);
    }
    return pool.run(url, name, args, callOptions.signal) as Promise<Awaited<TResult>>;
  };
  const wrapper = (...args: TArgs): Promise<Awaited<TResult>> => call(NO_OPTIONS, args);
  return Object.assign(wrapper, {
    callWith: (callOptions: ThreadedCallOptions, ...args: TArgs) => call(callOptions, args),
    syncCall: (...args: TArgs) => fn(...args),
    reference,
  });
}

/**
 * Like {@link threaded}, but every call starts a fresh thread that ends with the call: for long
 * or endless jobs that should not hold a pool thread. Nothing limits how many run at once.
 * An AbortSignal given with `callWith` terminates the thread.
 *
 * @example
 * ```ts
 * export const mine = threadedSeparate(import.meta.url, 'mine', (prefix: string) => {
 *   for (let nonce = 0; ; nonce++) {
 *     const digest = createHash('sha256').update(String(nonce)).digest('hex');
 *     if (digest.startsWith(prefix)) return digest;
 *   }
 * });
 *
 * console.log(await mine.callWith({ signal: AbortSignal.timeout(60_000) }, '0000'));
 * ```
 */
export function threadedSeparate<TArgs extends unknown[], TResult>(
  moduleUrl: string | URL,
  name: string,
  fn: (...args: TArgs) => TResult,
): ThreadedFunction<TArgs, TResult> {
  const reference = register(moduleUrl, name, fn);
  const call = (callOptions: ThreadedCallOptions, args: TArgs): Promise<Awaited<TResult>> => {
    if (workerState.inWorker) return inline(() => fn(...args));
    return runInSeparateThread([0, reference.moduleUrl, name, args, captureContext()], {
      signal: callOptions.signal,
    }) as Promise<Awaited<TResult>>;
  };
  const wrapper = (...args: TArgs): Promise<Awaited<TResult>> => call(NO_OPTIONS, args);
  return Object.assign(wrapper, {
    callWith: (callOptions: ThreadedCallOptions, ...args: TArgs) => call(callOptions, args),
    syncCall: (...args: TArgs) => fn(...args),
    reference,
  });
}
