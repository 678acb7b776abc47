/**
 * A one-shot flag that can be awaited, like asyncio's `Event`: `set()` wakes every `wait()`.
 * A service's `startEvent` is one.
 *
 * @example
 * ```ts
 * const ready = new Event();
 * setTimeout(() => ready.set(), 10);
 * await ready.wait();
 * ```
 */
export class Event {
  #isSet = false;
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  readonly #onSet: (() => void) | undefined;

  /** @param onSet called once, synchronously, when the event is set. */
  constructor(onSet?: () => void) {
    this.#onSet = onSet;
  }

  /** True once {@link Event.set} was called. */
  get isSet(): boolean {
    return this.#isSet;
  }

  /** Sets the flag and wakes every waiter. Setting twice is harmless. */
  set(): void {
    if (this.#isSet) return;
    this.#isSet = true;
    this.#resolve?.();
    this.#onSet?.();
  }

  /** Resolves once the flag is set (at once if it already is). */
  wait(): Promise<void> {
    if (this.#isSet) return Promise.resolve();
    this.#promise ??= new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
    return this.#promise;
  }
}
