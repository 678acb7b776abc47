import { runInContext } from './context-var';
import { lookupFunction, resolveFunction } from './function-reference';
import { globalSlot } from './global-slot';
import { serializeError } from './serialize-error';
import { CLOSED, CREDITS, END, FAIL, ITEM, type IteratorMessage, type WireTask } from './wire';

/** True inside a thread or process run by this package: threaded wrappers then run inline. @internal */
export const workerState = globalSlot('workerState', () => ({ inWorker: false }));

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs one task; never throws. Returns `[ok, value]` or `[false, SerializedError]`; a sync
 * function with an already-known target is run without a microtask hop.
 * @internal
 */
export function runTask(task: WireTask): [boolean, unknown] | Promise<[boolean, unknown]> {
  const [, moduleUrl, name, args, context] = task;
  try {
    const fn = lookupFunction(moduleUrl, name);
    if (fn)
      return settle(runInContext(context, () => (fn as (...a: unknown[]) => unknown)(...args)));
    return resolveFunction(moduleUrl, name).then(
      (found) => {
        try {
          return settle(
            runInContext(context, () => (found as (...a: unknown[]) => unknown)(...args)),
          );
        } catch (error) {
          return [false, serializeError(error)] as [boolean, unknown];
        }
      },
      (error: unknown) => [false, serializeError(error)] as [boolean, unknown],
    );
  } catch (error) {
    return [false, serializeError(error)];
  }
}

/** `[true, value]`, or for a promise-like value its outcome once settled. @internal */
export function settle(value: unknown): [boolean, unknown] | Promise<[boolean, unknown]> {
  if (!isPromiseLike(value)) return [true, value];
  return Promise.resolve(value).then(
    (result) => [true, result] as [boolean, unknown],
    (error: unknown) => [false, serializeError(error)] as [boolean, unknown],
  );
}

interface Port {
  postMessage(message: unknown): void;
  close(): void;
}

/**
 * Runs a generator task in this thread, posting items to `port` while honouring the credits
 * in `state`: it waits for a credit before asking the generator for the next item, so it is
 * never more than the initial credit (maxSize) ahead of the consumer. Closing (CLOSED set)
 * makes it call the generator's `return()`, so its `finally` blocks run.
 * @internal
 */
export async function runIterator(
  task: WireTask,
  port: Port,
  shared: SharedArrayBuffer,
): Promise<void> {
  const [, moduleUrl, name, args, context] = task;
  const state = new Int32Array(shared);
  let fn: (...a: unknown[]) => unknown;
  try {
    fn = (lookupFunction(moduleUrl, name) ?? (await resolveFunction(moduleUrl, name))) as typeof fn;
  } catch (error) {
    port.postMessage([FAIL, serializeError(error)] satisfies IteratorMessage);
    port.close();
    return;
  }
  runInContext(context, () => {
    let iterator: Iterator<unknown> | undefined;
    let finished = false;
    try {
      const iterable = fn(...args) as Iterable<unknown> | Iterator<unknown>;
      iterator =
        typeof (iterable as Iterable<unknown>)[Symbol.iterator] === 'function'
          ? (iterable as Iterable<unknown>)[Symbol.iterator]()
          : (iterable as Iterator<unknown>);
      for (;;) {
        let credits: number;
        while ((credits = Atomics.load(state, CREDITS)) <= 0 && Atomics.load(state, CLOSED) === 0) {
          Atomics.wait(state, CREDITS, credits);
        }
        if (Atomics.load(state, CLOSED) !== 0) break;
        const step = iterator.next();
        if (step.done) {
          finished = true;
          break;
        }
        Atomics.sub(state, CREDITS, 1);
        port.postMessage([ITEM, step.value] satisfies IteratorMessage);
      }
      if (!finished) iterator.return?.();
      port.postMessage([END] satisfies IteratorMessage);
    } catch (error) {
      port.postMessage([FAIL, serializeError(error)] satisfies IteratorMessage);
    } finally {
      port.close();
    }
  });
}
