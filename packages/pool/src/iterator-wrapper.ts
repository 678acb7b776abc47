import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { expectFunction, expectNumber, InvalidArgumentError } from '@aiomisc/core';
import { captureContext } from './context-var';
import { getDefaultThreadPool } from './default-pool';
import { PoolClosedError } from './errors/pool-closed-error';
import { WorkerExitedError } from './errors/worker-exited-error';
import {
  makeReference,
  registerFunction,
  toReference,
  type FunctionReference,
  type FunctionTarget,
} from './function-reference';
import { deserializeError } from './serialize-error';
import { runInSeparateThread } from './separate-thread';
import type { ThreadPoolExecutor } from './thread-pool-executor';
import {
  CLOSE_BUMP,
  CLOSED,
  CREDITS,
  END,
  FAIL,
  ITEM,
  type IteratorMessage,
  type PoolMessage,
  type WireTask,
} from './wire';

/**
 * The default `maxSize` of the threaded iterators (Python's THREADED_ITERABLE_DEFAULT_MAX_SIZE).
 *
 * @example
 * ```ts
 * const lines = threadedIterable(import.meta.url, 'lines', readLines, { maxSize: DEFAULT_ITERATOR_MAX_SIZE / 4 });
 * ```
 */
export const DEFAULT_ITERATOR_MAX_SIZE = 1024;

/** Options of {@link IteratorWrapper} and {@link threadedIterable}. */
export interface IteratorWrapperOptions {
  /** Most items the generator may produce ahead of the consumer (>= 1). @default 1024 */
  maxSize?: number;
  /** The pool whose thread runs the generator (IteratorWrapper only). @default the default pool */
  pool?: ThreadPoolExecutor;
}

/**
 * Runs a synchronous generator function of your module in a pool thread and hands its items to
 * `for await`. Back-pressure is real: the generator is asked for an item only when fewer than
 * `maxSize` items wait unconsumed, so it never runs more than `maxSize` items ahead. It starts
 * lazily, at the first `next()`. `close()`, `break`, `return()` or `await using` stop it: the
 * thread calls the generator's `return()`, so its `finally` blocks run. An error thrown by the
 * generator reaches the consumer after the items produced before it.
 *
 * The generator holds its thread until it ends or is closed.
 *
 * @example
 * ```ts
 * // reader.ts
 * export function* lines(path: string) {
 *   yield* readFileSync(path, 'utf8').split('\n');
 * }
 * // main.ts
 * const pool = new ThreadPoolExecutor(2);
 * await using wrapper = new IteratorWrapper({ moduleUrl: readerUrl, name: 'lines' }, ['/etc/hosts'], { pool, maxSize: 2 });
 * for await (const line of wrapper) console.log(line);
 * ```
 */
export class IteratorWrapper<TItem> implements AsyncIterableIterator<TItem>, AsyncDisposable {
  /** The generator function this wrapper runs. */
  readonly reference: FunctionReference;
  /** Most items produced ahead of the consumer. */
  readonly maxSize: number;
  readonly #args: readonly unknown[];
  readonly #pool: ThreadPoolExecutor | undefined;
  readonly #context: Array<[string, unknown]> | undefined;
  #started = false;
  #closed = false;
  #finished = false;
  #error: { value: unknown } | undefined;
  readonly #buffer: TItem[] = [];
  #waiter:
    { resolve(result: IteratorResult<TItem>): void; reject(error: unknown): void } | undefined;
  #port: MessagePort | undefined;
  #state: Int32Array | undefined;
  #task: Promise<void> | undefined;

  /**
   * @param target The generator function: a reference, or a function from {@link threadedIterable}.
   * @param args Its arguments (structured-cloneable).
   * @throws {@link InvalidArgumentError} for a maxSize below 1 or a bad target.
   */
  constructor(
    target: FunctionTarget,
    args: readonly unknown[] = [],
    options: IteratorWrapperOptions = {},
  ) {
    this.reference = toReference('target', target);
    this.maxSize = expectNumber('maxSize', options.maxSize ?? DEFAULT_ITERATOR_MAX_SIZE, {
      min: 1,
      integer: true,
    });
    if (!Array.isArray(args)) throw new InvalidArgumentError('args', args, 'an array of arguments');
    this.#args = args;
    this.#pool = options.pool;
    // Captured now, as the Python captures the context when the wrapper is made.
    this.#context = captureContext();
  }

  /** True once closed or finished. */
  get closed(): boolean {
    return this.#closed || this.#finished;
  }

  /** Starts the generator in a thread; subclasses pick the thread. @internal */
  protected launch(task: WireTask, port: MessagePort, state: SharedArrayBuffer): Promise<unknown> {
    const pool = this.#pool ?? getDefaultThreadPool();
    const message: PoolMessage = { it: task, port, state };
    return pool.runExclusive(message, [port], new AbortController());
  }

  #start(): void {
    this.#started = true;
    const shared = new SharedArrayBuffer(8);
    this.#state = new Int32Array(shared);
    Atomics.store(this.#state, CREDITS, this.maxSize);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on('message', (message: IteratorMessage) => this.#onMessage(message));
    // The thread closes its end after END or FAIL; a close without them means it died. Messages
    // sent before the close are delivered before this event, unlike the task's own completion,
    // which travels on another channel.
    port1.once('close', () => {
      if (!this.#finished) {
        this.#finish(
          this.#closed
            ? undefined
            : { value: new WorkerExitedError('the thread running the generator exited', {}) },
        );
      }
    });
    const task: WireTask = [
      0,
      this.reference.moduleUrl,
      this.reference.name,
      [...this.#args],
      this.#context,
    ];
    this.#task = this.launch(task, port2, shared).then(
      () => undefined,
      (error: unknown) => {
        // Refused before any thread got the generator (a closed pool): nothing will arrive on
        // the port, so report it now. A thread that died is reported by the port's close.
        if (PoolClosedError.isInstance(error)) {
          this.#finish({ value: error });
          port2.close();
        }
      },
    );
  }

  #onMessage(message: IteratorMessage): void {
    if (message[0] === ITEM) {
      if (this.#waiter) {
        const waiter = this.#waiter;
        this.#waiter = undefined;
        this.#grant();
        waiter.resolve({ value: message[1] as TItem, done: false });
      } else {
        this.#buffer.push(message[1] as TItem);
      }
    } else if (message[0] === END) {
      this.#finish(undefined);
    } else if (message[0] === FAIL) {
      this.#finish({ value: deserializeError(message[1]) });
    }
  }

  #finish(error: { value: unknown } | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#port?.close();
    if (error && !this.#closed) this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) {
      if (this.#error) {
        const { value } = this.#error;
        this.#error = undefined;
        waiter.reject(value);
      } else {
        waiter.resolve({ value: undefined, done: true });
      }
    }
  }

  #grant(): void {
    const state = this.#state!;
    Atomics.add(state, CREDITS, 1);
    Atomics.notify(state, CREDITS);
  }

  /** The next item; rejects with the generator's error after the items before it. */
  next(): Promise<IteratorResult<TItem>> {
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (!this.#started) this.#start();
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift()!;
      if (!this.#finished) this.#grant();
      return Promise.resolve({ value, done: false });
    }
    if (this.#finished) {
      if (this.#error) {
        const { value } = this.#error;
        this.#error = undefined;
        return Promise.reject(value);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiter)
      return Promise.reject(
        new InvalidArgumentError('next', 'concurrent call', 'awaited before the next call'),
      );
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Closes the wrapper (what `break` in `for await` calls). */
  async return(): Promise<IteratorResult<TItem>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /**
   * Stops the generator (its `finally` blocks run in the thread) and waits until its thread is
   * free again. Items not consumed are dropped. Calling it again is harmless.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#buffer.length = 0;
      const state = this.#state;
      if (state) {
        Atomics.store(state, CLOSED, 1);
        Atomics.add(state, CREDITS, CLOSE_BUMP);
        Atomics.notify(state, CREDITS);
      }
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.resolve({ value: undefined, done: true });
    }
    await this.#task;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Same as {@link IteratorWrapper.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * An {@link IteratorWrapper} whose generator runs in a fresh thread of its own instead of a pool
 * thread, for long or endless generators.
 *
 * @example
 * ```ts
 * await using numbers = new IteratorWrapperSeparate({ moduleUrl: jobsUrl, name: 'counter' }, [], { maxSize: 8 });
 * for await (const n of numbers) if (n > 100) break;
 * ```
 */
export class IteratorWrapperSeparate<TItem> extends IteratorWrapper<TItem> {
  protected override launch(
    task: WireTask,
    port: MessagePort,
    state: SharedArrayBuffer,
  ): Promise<unknown> {
    return runInSeparateThread(task, { port, state });
  }
}

/** What {@link threadedIterable} returns. */
export interface ThreadedIterableFunction<TArgs extends unknown[], TItem> {
  /** Starts (lazily) the generator in a thread; iterate the result with `for await`. */
  (...args: TArgs): IteratorWrapper<TItem>;
  /** Calls the generator function directly, in this thread. */
  syncCall(...args: TArgs): Iterable<TItem>;
  /** Where a worker finds the generator function. */
  readonly reference: FunctionReference;
}

function makeIterable<TArgs extends unknown[], TItem>(
  moduleUrl: string | URL,
  name: string,
  fn: (...args: TArgs) => Iterable<TItem>,
  options: IteratorWrapperOptions,
  Wrapper: typeof IteratorWrapper,
): ThreadedIterableFunction<TArgs, TItem> {
  expectFunction('fn', fn);
  const reference = makeReference(moduleUrl, name);
  expectNumber('maxSize', options.maxSize ?? DEFAULT_ITERATOR_MAX_SIZE, { min: 1, integer: true });
  registerFunction(reference, fn);
  const wrapper = (...args: TArgs): IteratorWrapper<TItem> =>
    new Wrapper<TItem>(reference, args, options);
  return Object.assign(wrapper, { syncCall: (...args: TArgs) => fn(...args), reference });
}

/**
 * Makes a synchronous generator function of your module run in a pool thread, consumed with
 * `for await` through an {@link IteratorWrapper} (bounded by `maxSize`). Registration works as
 * for {@link threaded}.
 *
 * @example
 * ```ts
 * export const urandom = threadedIterable(import.meta.url, 'urandom', function* () {
 *   const fd = openSync('/dev/urandom', 'r');
 *   try {
 *     for (;;) {
 *       const chunk = Buffer.alloc(8);
 *       readSync(fd, chunk);
 *       yield chunk;
 *     }
 *   } finally {
 *     closeSync(fd);
 *   }
 * }, { maxSize: 8 });
 *
 * let count = 0;
 * for await (const chunk of urandom()) if (++count > 16) break; // closes the generator
 * ```
 */
export function threadedIterable<TArgs extends unknown[], TItem>(
  moduleUrl: string | URL,
  name: string,
  fn: (...args: TArgs) => Iterable<TItem>,
  options: IteratorWrapperOptions = {},
): ThreadedIterableFunction<TArgs, TItem> {
  return makeIterable(moduleUrl, name, fn, options, IteratorWrapper);
}

/**
 * {@link threadedIterable} with a fresh thread per iteration ({@link IteratorWrapperSeparate}).
 *
 * @example
 * ```ts
 * export const tail = threadedIterableSeparate(import.meta.url, 'tail', function* (path: string) {
 *   yield* readFileSync(path, 'utf8').split('\n');
 * });
 * for await (const line of tail('/var/log/syslog')) console.log(line);
 * ```
 */
export function threadedIterableSeparate<TArgs extends unknown[], TItem>(
  moduleUrl: string | URL,
  name: string,
  fn: (...args: TArgs) => Iterable<TItem>,
  options: Omit<IteratorWrapperOptions, 'pool'> = {},
): ThreadedIterableFunction<TArgs, TItem> {
  return makeIterable(moduleUrl, name, fn, options, IteratorWrapperSeparate);
}
