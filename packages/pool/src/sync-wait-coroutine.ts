import {
  isMainThread,
  MessageChannel,
  parentPort,
  receiveMessageOnPort,
  type MessagePort,
} from 'node:worker_threads';
import { InvalidStateError } from '@aiomisc/core';
import { resolveFunction, toReference, type FunctionTarget } from './function-reference';
import { deserializeError, serializeError } from './serialize-error';
import { WAIT } from './wire';

/** [WAIT, moduleUrl, name, args, SharedArrayBuffer, MessagePort] @internal */
export type WaitRequest = [typeof WAIT, string, string, unknown[], SharedArrayBuffer, MessagePort];

/**
 * Called from a worker thread run by this package (`threaded`, `threadedSeparate`, the
 * iterators): runs an async function on the main thread and blocks this thread until it
 * settles, returning its result or throwing its error (class name, message and stack kept).
 *
 * The function is named, not passed: a {@link FunctionReference} to an export of a module (or a
 * function registered with `threaded`), which the main thread imports (already loaded, usually)
 * and calls. Arguments and the result must be structured-cloneable. The port of
 * `aiomisc.sync_wait_coroutine`.
 *
 * @throws {@link InvalidStateError} on the main thread, where blocking would deadlock.
 *
 * @example
 * ```ts
 * // jobs.ts
 * export async function fetchUser(id: number) {
 *   return (await fetch(`https://api.example.com/users/${id}`)).json();
 * }
 * export const report = threaded(import.meta.url, 'report', (id: number) => {
 *   const user = syncWaitCoroutine({ moduleUrl: import.meta.url, name: 'fetchUser' }, id);
 *   return renderPdfSync(user);
 * });
 * ```
 */
export function syncWaitCoroutine<TResult = unknown>(
  target: FunctionTarget,
  ...args: unknown[]
): TResult {
  if (isMainThread || !parentPort) {
    throw new InvalidStateError(
      'syncWaitCoroutine() must be called from a worker thread; on the main thread, await the function',
    );
  }
  const reference = toReference('target', target);
  const shared = new SharedArrayBuffer(4);
  const flag = new Int32Array(shared);
  const { port1, port2 } = new MessageChannel();
  try {
    parentPort.postMessage(
      [WAIT, reference.moduleUrl, reference.name, args, shared, port1] satisfies WaitRequest,
      [port1],
    );
    Atomics.wait(flag, 0, 0);
    const reply: { message: unknown } | undefined = receiveMessageOnPort(port2);
    if (!reply) throw new InvalidStateError('the main thread closed the channel without a reply');
    const [ok, value] = reply.message as [boolean, unknown];
    if (ok) return value as TResult;
    throw deserializeError(value as ReturnType<typeof serializeError>);
  } finally {
    port2.close();
  }
}

/** Serves a worker's syncWaitCoroutine request on the main thread. @internal */
export function handleWaitRequest(request: WaitRequest): void {
  const [, moduleUrl, name, args, shared, port] = request;
  const flag = new Int32Array(shared);
  const reply = (message: [boolean, unknown]): void => {
    try {
      port.postMessage(message);
    } catch (error) {
      port.postMessage([false, serializeError(error)]);
    }
    port.close();
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  resolveFunction(moduleUrl, name)
    .then((fn) => (fn as (...a: unknown[]) => unknown)(...args))
    .then(
      (value) => reply([true, value]),
      (error: unknown) => reply([false, serializeError(error)]),
    );
}

/** True for a message a worker posts to ask for a syncWaitCoroutine. @internal */
export function isWaitRequest(message: unknown): message is WaitRequest {
  return Array.isArray(message) && message[0] === WAIT;
}
