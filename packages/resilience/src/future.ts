/**
 * A result slot that is set once, from outside: what each {@link Arg} of an
 * {@link aggregateAsync} function carries, like the seed's asyncio future.
 *
 * @example
 * ```ts
 * const future = new Future<number>();
 * future.setResult(42);
 * await future.promise; // 42
 * ```
 */
export class Future<TResult> {
  /** Settles with the result or the exception once one is set. */
  readonly promise: Promise<TResult>;
  #done = false;
  #resolve!: (value: TResult) => void;
  #reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<TResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** True once a result or an exception is set. */
  done(): boolean {
    return this.#done;
  }

  /** Sets the result; returns false (and changes nothing) when the future is already done. */
  setResult(value: TResult): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#resolve(value);
    return true;
  }

  /** Sets an exception; returns false (and changes nothing) when the future is already done. */
  setException(error: unknown): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#reject(error);
    return true;
  }
}
