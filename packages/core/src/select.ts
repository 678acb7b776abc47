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

/** The value a contender of {@link select} settles with. */
export type SelectableValue<TContender> =
  TContender extends PromiseLike<infer TValue>
    ? TValue
    : TContender extends (signal: AbortSignal) => infer TReturn
      ? Awaited<TReturn>
      : never;

/** The values of a list of contenders, position by position. */
export type SelectValues<TContenders extends readonly unknown[]> = {
  -readonly [TIndex in keyof TContenders]: SelectableValue<TContenders[TIndex]>;
};

/**
 * What {@link select} resolves to: a {@link SelectResult} over the union of the contenders'
 * values, typed position by position (`result[0]`, `const [a, b] = result`).
 */
export type SelectOutcome<TValues extends readonly unknown[]> = SelectResult<TValues[number]> & {
  readonly [TIndex in keyof TValues]: TValues[TIndex] | undefined;
};

/**
 * The outcome of {@link select}: as long as its input, the winner's value at its index and
 * `undefined` elsewhere, so it indexes and destructures like the seed's `a, b = await select(x, y)`.
 */
export class SelectResult<TValue = unknown> implements Iterable<TValue | undefined> {
  readonly [index: number]: TValue | undefined;
  /** The number of contenders. */
  readonly length: number;
  /** The winner's index. */
  readonly resultIndex: number;
  /** True when the winner rejected (only with `returnExceptions`). */
  readonly isException: boolean;

  constructor(length: number, resultIndex: number, value: TValue, isException: boolean) {
    const values = this as unknown as (TValue | undefined)[];
    for (let index = 0; index < length; index++) values[index] = undefined;
    values[resultIndex] = value;
    this.length = length;
    this.resultIndex = resultIndex;
    this.isException = isException;
  }

  /** The winner's value (or its error with `returnExceptions`). */
  result(): TValue {
    return this[this.resultIndex] as TValue;
  }

  /** Always true: a select resolves only once something finished. */
  done(): boolean {
    return true;
  }

  /** The value at `index` (negative counts from the end), undefined for the losers. */
  at(index: number): TValue | undefined {
    return this[index < 0 ? this.length + index : index];
  }

  *[Symbol.iterator](): Iterator<TValue | undefined> {
    for (let index = 0; index < this.length; index++) yield this[index];
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
 * Waits for the first of several awaitables to finish and returns a {@link SelectResult},
 * typed position by position from the contenders (they may settle with different types).
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
export function select<const TContenders extends readonly Selectable[]>(
  ...contenders: TContenders
): Promise<SelectOutcome<SelectValues<TContenders>>>;
export function select<const TContenders extends readonly Selectable[]>(
  ...args: [...TContenders, SelectOptions]
): Promise<SelectOutcome<SelectValues<TContenders>>>;
export async function select(
  ...args: (Selectable | SelectOptions)[]
): Promise<SelectResult<unknown>> {
  const last = args.at(-1);
  const options: SelectOptions = isOptions(last) ? (args.pop() as SelectOptions) : {};
  const { cancel = true, wait = true, returnExceptions = false, signal } = options;
  const contenders = args as Selectable[];
  const tasks = contenders.map((item) =>
    typeof item === 'function' ? new Task(item) : item instanceof Task ? item : undefined,
  );
  const promises = contenders.map((item, index) =>
    Promise.resolve(tasks[index] ?? (item as PromiseLike<unknown>)),
  );
  const outcome = new Promise<SelectResult>((resolve, reject) => {
    promises.forEach((promise, index) => {
      promise.then(
        (value) => resolve(new SelectResult(promises.length, index, value, false)),
        (error: unknown) =>
          returnExceptions
            ? resolve(new SelectResult(promises.length, index, error, true))
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
        await Promise.allSettled(tasks.filter((task): task is Task<unknown> => task !== undefined));
    }
  }
}
