/**
 * The longest delay Node's timers honour (2^31 - 1 ms, about 24.8 days). `setTimeout` with a
 * longer delay warns and fires after 1 ms; {@link setLongTimeout} chains timers instead.
 */
export const MAX_TIMER_DELAY = 2_147_483_647;

/** A timer made by {@link setLongTimeout}: the shape of Node's `Timeout` that callers use. */
export interface LongTimeout {
  /** Cancels the timer; the callback never runs. Safe to call more than once. */
  clear(): void;
  /** Keeps the process alive until the timer fires (the default). */
  ref(): this;
  /** Lets the process exit while the timer is pending. */
  unref(): this;
  /** Whether the timer keeps the process alive. */
  hasRef(): boolean;
}

class ChainedTimeout implements LongTimeout {
  #timer: NodeJS.Timeout | undefined;
  #remaining: number;
  #referenced = true;
  readonly #callback: () => void;

  constructor(callback: () => void, ms: number) {
    this.#callback = callback;
    this.#remaining = Number.isNaN(ms) ? 0 : Math.max(0, ms);
    this.#arm();
  }

  /** One link of the chain fired: arm the next one or run the callback (no closure per link). */
  static #fire(this: void, timer: ChainedTimeout): void {
    if (timer.#remaining > 0) timer.#arm();
    else {
      timer.#timer = undefined;
      timer.#callback();
    }
  }

  #arm(): void {
    const step = Math.min(this.#remaining, MAX_TIMER_DELAY);
    this.#remaining -= step;
    this.#timer = setTimeout(ChainedTimeout.#fire, step, this);
    if (!this.#referenced) this.#timer.unref();
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#remaining = 0;
  }

  ref(): this {
    this.#referenced = true;
    this.#timer?.ref();
    return this;
  }

  unref(): this {
    this.#referenced = false;
    this.#timer?.unref();
    return this;
  }

  hasRef(): boolean {
    return this.#timer !== undefined && this.#referenced;
  }
}

/**
 * `setTimeout` for any delay: up to {@link MAX_TIMER_DELAY} it is one Node timer, beyond it a
 * chain of them, so a 30-day delay fires after 30 days instead of after 1 ms. `Infinity`
 * never fires (and keeps the process alive unless unref'd); negative and NaN delays fire on
 * the next turn of the timer phase, as with `setTimeout(fn, 0)`. Every `@aiomisc/*` package
 * arms its timers through this helper.
 *
 * @example
 * ```ts
 * import { setLongTimeout } from '@aiomisc/core';
 *
 * const timer = setLongTimeout(() => console.log('a month later'), 30 * 24 * 3600_000);
 * timer.unref(); // or timer.clear()
 * ```
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimeout {
  return new ChainedTimeout(callback, ms);
}
