import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidArgumentError } from '@aiomisc/core';
import { globalSlot } from './global-slot';

type Store = ReadonlyMap<string, unknown>;

const storage = globalSlot('contextStorage', () => new AsyncLocalStorage<Store>());
const names = globalSlot('contextNames', () => new Set<string>());

/**
 * A context variable, the port of Python's `contextvars.ContextVar`: a value that follows the
 * async call chain (AsyncLocalStorage), and that `threaded` and its siblings carry to the
 * worker thread, so threaded code reads the value its caller had at call time.
 *
 * Values that cross threads must be structured-cloneable. The `name` is the key on both sides,
 * so it must be unique in the application.
 *
 * @example
 * ```ts
 * const userId = new ContextVar<number>('userId');
 * export const writeUser = threaded(import.meta.url, 'writeUser', () => {
 *   appendFileSync('/tmp/audit.log', `${userId.get()}\n`);
 * });
 *
 * const pending = [];
 * for (let i = 0; i < 5; i++) {
 *   userId.set(Math.floor(Math.random() * 65535));
 *   pending.push(writeUser()); // each call carries the value set just before it
 * }
 * await Promise.all(pending);
 * ```
 */
export class ContextVar<TValue> {
  /** The key of this variable in every thread. */
  readonly name: string;
  readonly #default: TValue | undefined;
  readonly #hasDefault: boolean;

  /**
   * @param name Unique name; the same name in a worker thread reads the same value.
   * @param options `default`: returned by `get()` when no value is set.
   */
  constructor(name: string, options?: { default?: TValue }) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError('name', name, 'a non-empty string');
    }
    this.name = name;
    this.#hasDefault = options !== undefined && 'default' in options;
    this.#default = options?.default;
    names.add(name);
  }

  /**
   * The value in the current async context, else the default.
   * @throws {@link InvalidArgumentError} (a LookupError in Python) when neither is set.
   */
  get(): TValue {
    const store = storage.getStore();
    if (store?.has(this.name)) return store.get(this.name) as TValue;
    if (this.#hasDefault) return this.#default as TValue;
    throw new InvalidArgumentError(
      this.name,
      undefined,
      'set before it is read (no value and no default)',
    );
  }

  /** The value, or `fallback` when the variable has no value and no default. */
  getOr<TFallback>(fallback: TFallback): TValue | TFallback {
    const store = storage.getStore();
    if (store?.has(this.name)) return store.get(this.name) as TValue;
    return this.#hasDefault ? (this.#default as TValue) : fallback;
  }

  /**
   * Sets the value for the rest of the current synchronous execution and everything it starts
   * (AsyncLocalStorage `enterWith`), like `ContextVar.set` in Python.
   */
  set(value: TValue): void {
    const next = new Map(storage.getStore());
    next.set(this.name, value);
    storage.enterWith(next);
  }

  /** Runs `fn` with the variable set to `value`; the caller's context is untouched. */
  run<TResult>(value: TValue, fn: () => TResult): TResult {
    const next = new Map(storage.getStore());
    next.set(this.name, value);
    return storage.run(next, fn);
  }
}

/** The current context as entries to send to a worker, or undefined when it is empty. @internal */
export function captureContext(): Array<[string, unknown]> | undefined {
  const store = storage.getStore();
  if (!store || store.size === 0) return undefined;
  return [...store];
}

/** Runs `fn` inside the context a task carried. @internal */
export function runInContext<TResult>(
  entries: Array<[string, unknown]> | undefined,
  fn: () => TResult,
): TResult {
  if (!entries) return fn();
  return storage.run(new Map(entries), fn);
}
