/**
 * Wraps a function so that calling it always gives a promise: a thenable result is returned
 * as is, any other value resolved, a synchronous throw turned into a rejection.
 * The seed's `awaitable`.
 *
 * @example
 * ```ts
 * const call = awaitable(callback); // sync or async, the caller awaits either
 * const value = await call(1, 2);
 * ```
 */
export function awaitable<TArgs extends unknown[], TResult>(
  fn: (...args: TArgs) => TResult | PromiseLike<TResult>,
): (...args: TArgs) => Promise<TResult> {
  return (...args) => {
    try {
      const result = fn(...args);
      return result instanceof Promise ? (result as Promise<TResult>) : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}
