import { Task } from './task';

/** What {@link select} races: a promise, or a function that gets an AbortSignal (a task). */
export type Selectable<TValue = unknown> =
  PromiseLike<TValue> | Task<TValue> | ((signal: AbortSignal) => TValue | PromiseLike<TValue>);

/** Options of {@link select}. */
export interface SelectOptions {
  /** Abort the losers (those given as functions or tasks). @default true */
  cancel?: boolean;
  /** Wait for the aborted losers to settle before resolving. @default true */
  wait?: boolean;
  /** A winner's rejection becomes its value instead of rejecting. @default false */
  returnExceptions?: boolean;
  /** Aborts every contender and rejects with its reason. */
  signal?: AbortSignal;
}

/**
 * The outcome of {@link select}: as long as its input, the winner's value at its index and
 * `undefined` elsewhere, so it destructures like the seed's `a, b = await select(x, y)`.
 */
export class SelectResult<TValue = unknown> implements Iterable<TValue | undefined> {
  /** The winner's index. */
  readonly resultIndex: number;
  /** True when the winner rejected (only with `returnExceptions`). */
  readonly isException: boolean;
  readonly #values: (TValue | undefined)[];

  constructor(length: number, resultIndex: number, value: TValue, isException: boolean) {
    this.#values = new Array<TValue | undefined>(length).fill(undefined);
    this.#values[resultIndex] = value;
    this.resultIndex = resultIndex;
    this.isException = isException;
  }

  /** The winner's value (or its error with `returnExceptions`). */
  result(): TValue {
    return this.#values[this.resultIndex] as TValue;
  }

  /** Always true: a select resolves only once something finished. */
  done(): boolean {
    return true;
  }

  /** The value at `index`, undefined for the losers. */
  at(index: number): TValue | undefined {
    return this.#values[index];
  }

  [Symbol.iterator](): Iterator<TValue | undefined> {
    return this.#values[Symbol.iterator]();
  }
}

function isOptions(value: unknown): value is SelectOptions {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Task) &&
    typeof (value as PromiseLike<unknown>).then !== 'function'
  );
}

/**
 * Waits for the first of several awaitables to finish and returns a {@link SelectResult}.
 * Contenders given as functions receive an AbortSignal; the losers are aborted (and awaited)
 * unless `{ cancel: false }` is passed as the last argument. A winner's rejection rejects.
 *
 * @example
 * ```ts
 * const [fromCache, fromDb] = await select(
 *   (signal) => cache.get(key, { signal }),
 *   (signal) => db.get(key, { signal }),
 * );
 * ```
 */
export async function select<TValue = unknown>(
  ...args: [...Selectable<TValue>[], SelectOptions] | Selectable<TValue>[]
): Promise<SelectResult<TValue>> {
  const last = args.at(-1);
  const options: SelectOptions = isOptions(last) ? (args.pop() as SelectOptions) : {};
  const { cancel = true, wait = true, returnExceptions = false, signal } = options;
  const contenders = args as Selectable<TValue>[];
  const tasks = contenders.map((item) =>
    typeof item === 'function' ? new Task(item) : item instanceof Task ? item : undefined,
  );
  const promises = contenders.map((item, index) =>
    Promise.resolve(tasks[index] ?? (item as PromiseLike<TValue>)),
  );
  const outcome = new Promise<SelectResult<TValue>>((resolve, reject) => {
    promises.forEach((promise, index) => {
      promise.then(
        (value) => resolve(new SelectResult(promises.length, index, value, false)),
        (error: unknown) =>
          returnExceptions
            ? resolve(new SelectResult(promises.length, index, error as TValue, true))
            : reject(error as Error),
      );
    });
    if (signal) {
      if (signal.aborted) reject(signal.reason as Error);
      else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    }
  });
  try {
    return await outcome;
  } finally {
    if (cancel) {
      for (const task of tasks) task?.abort();
      if (wait)
        await Promise.allSettled(tasks.filter((task): task is Task<TValue> => task !== undefined));
    }
  }
}
