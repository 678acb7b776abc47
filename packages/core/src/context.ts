import { Entrypoint } from './entrypoint';
import { InvalidStateError } from './errors/invalid-state-error';
import { Statistic } from './statistic';

/** Counters of a {@link Context}: reads and writes. */
export class ContextStatistic extends Statistic {
  readonly kind = 'ContextStatistic';
  get = 0;
  set = 0;
}

interface Slot {
  value?: unknown;
  isSet: boolean;
  waiters: Array<{ resolve: (value: unknown) => void; reject: (error: unknown) => void }>;
}

/**
 * Values shared between the services of one entrypoint, the seed's dependency injection:
 * `get(key)` waits until some service `set`s the key, so services need no start order.
 * Setting a key again replaces the value for later reads.
 *
 * @example
 * ```ts
 * class Db extends Service {
 *   async start() {
 *     this.context.set('db', await connect());
 *   }
 * }
 * class Api extends Service {
 *   async start() {
 *     const db = await this.context.get<Database>('db'); // waits for Db
 *   }
 * }
 * ```
 */
export class Context {
  readonly #slots = new Map<string, Slot>();
  readonly #statistic: ContextStatistic;
  #closed = false;

  constructor(options: { statisticName?: string } = {}) {
    this.#statistic = new ContextStatistic(options.statisticName);
  }

  /**
   * The value of `key`, at once if it is set, otherwise once a `set(key, …)` happens.
   * @throws {@link InvalidStateError} (rejects) when the context is closed before the key is set.
   */
  get<TValue = unknown>(key: string): Promise<TValue> {
    this.#statistic.get++;
    const slot = this.#slot(key);
    if (slot.isSet) return Promise.resolve(slot.value as TValue);
    if (this.#closed)
      return Promise.reject(new InvalidStateError(`context is closed; "${key}" was never set`));
    return new Promise<TValue>((resolve, reject) => {
      slot.waiters.push({ resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Sets `key` and wakes whoever waits for it. */
  set(key: string, value: unknown): void {
    if (this.#closed) throw new InvalidStateError(`context is closed; cannot set "${key}"`);
    this.#statistic.set++;
    const slot = this.#slot(key);
    slot.value = value;
    slot.isSet = true;
    const waiters = slot.waiters.splice(0);
    for (const waiter of waiters) waiter.resolve(value);
  }

  /** True when `key` has been set. */
  has(key: string): boolean {
    return this.#slots.get(key)?.isSet ?? false;
  }

  /** Clears every value; pending `get`s reject with {@link InvalidStateError}. The entrypoint calls it at stop. */
  close(): void {
    this.#closed = true;
    for (const [key, slot] of this.#slots) {
      for (const waiter of slot.waiters) {
        waiter.reject(new InvalidStateError(`context is closed; "${key}" was never set`));
      }
    }
    this.#slots.clear();
  }

  #slot(key: string): Slot {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { isSet: false, waiters: [] };
      this.#slots.set(key, slot);
    }
    return slot;
  }
}

/**
 * The {@link Context} of the current entrypoint (see `Entrypoint.current()`).
 * @throws {@link InvalidStateError} when no entrypoint is running.
 *
 * @example
 * ```ts
 * const db = await getContext().get<Database>('db');
 * ```
 */
export function getContext(): Context {
  return Entrypoint.current().context;
}
