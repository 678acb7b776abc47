/**
 * An abortable unit of async work: a promise plus the AbortController that cancels it.
 * The Node equivalent of an asyncio task; {@link cancelTasks} and {@link select} abort them.
 *
 * @example
 * ```ts
 * const task = createTask((signal) => fetch(url, { signal }));
 * task.abort();
 * await task.catch(() => {});
 * ```
 */
export class Task<TResult> implements PromiseLike<TResult> {
  readonly #controller = new AbortController();
  readonly #promise: Promise<TResult>;
  #done = false;

  constructor(work: (signal: AbortSignal) => TResult | PromiseLike<TResult>) {
    let promise: Promise<TResult>;
    try {
      promise = Promise.resolve(work(this.#controller.signal));
    } catch (error) {
      promise = Promise.reject(error);
    }
    const settle = () => {
      this.#done = true;
    };
    promise.then(settle, settle);
    this.#promise = promise;
  }

  /** The signal the work received. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once the work resolved or rejected. */
  get done(): boolean {
    return this.#done;
  }

  /** Aborts the work's signal (a no-op once done). */
  abort(reason?: unknown): void {
    if (!this.#done) this.#controller.abort(reason);
  }

  then<TResult1 = TResult, TResult2 = never>(
    onfulfilled?: ((value: TResult) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    return this.#promise.then(onfulfilled, onrejected);
  }

  /** Like `Promise.prototype.catch`. */
  catch<TResult2 = never>(
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult | TResult2> {
    return this.#promise.catch(onrejected);
  }
}

/**
 * Starts `work` with a fresh AbortSignal and returns it as a {@link Task}.
 *
 * @example
 * ```ts
 * const task = createTask(async (signal) => {
 *   while (!signal.aborted) await poll();
 * });
 * ```
 */
export function createTask<TResult>(
  work: (signal: AbortSignal) => TResult | PromiseLike<TResult>,
): Task<TResult> {
  return new Task(work);
}

/**
 * Aborts every task that is not done yet and resolves once all of them settled, whatever
 * their outcome; tasks already done are left alone. The seed's `cancel_tasks`.
 *
 * @example
 * ```ts
 * const tasks = urls.map((url) => createTask((signal) => fetch(url, { signal })));
 * await cancelTasks(...tasks);
 * ```
 */
export async function cancelTasks(...tasks: Task<unknown>[]): Promise<void> {
  for (const task of tasks) task.abort();
  await Promise.allSettled(tasks);
}
