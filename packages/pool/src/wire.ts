import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from './serialize-error';

/** A task as it crosses to a worker: [id, moduleUrl, name, args, context]. @internal */
export type WireTask = [number, string, string, unknown[], (Array<[string, unknown]> | undefined)?];

/** Tag of a task result posted by a worker thread: [RESULT, id, ok, value | SerializedError]. @internal */
export const RESULT = 'aiomisc.pool.result';
/** Tag of a syncWaitCoroutine request: [WAIT, moduleUrl, name, args, SharedArrayBuffer, MessagePort]. @internal */
export const WAIT = 'aiomisc.pool.wait';

/**
 * Piscina's reply to a batch or single task, about its last task: the value itself when it
 * succeeded with a primitive, `{ e }` when it failed, `{ p: 1 }` when the value was posted on
 * its own message (objects: a clone failure there is reported instead of killing the thread).
 * @internal
 */
export type TaskReply =
  string | number | boolean | bigint | null | undefined | { e: SerializedError } | { p: 1 };

/** @internal */
export type ResultMessage = [typeof RESULT, number, boolean, unknown];

/** Iterator channel messages. @internal */
export const ITEM = 1;
/** @internal */
export const END = 0;
/** @internal */
export const FAIL = 2;
/** @internal */
export type IteratorMessage =
  [typeof ITEM, unknown] | [typeof END] | [typeof FAIL, SerializedError];

/** Slots of the iterator's shared Int32Array. @internal */
export const CREDITS = 0;
/** @internal */
export const CLOSED = 1;
/** Added to the credits on close so that a producer waiting on them wakes up. @internal */
export const CLOSE_BUMP = 1 << 24;

/** Piscina task payloads: one task, a batch, an abortable task, a generator. @internal */
export type PoolMessage =
  | WireTask
  | WireTask[]
  | { s: WireTask }
  | { it: WireTask; port: MessagePort; state: SharedArrayBuffer };

/** workerData of a separate (one-shot) thread. @internal */
export interface SeparateData {
  aiomiscSeparate: true;
  task: WireTask;
  port?: MessagePort;
  state?: SharedArrayBuffer;
}

/**
 * First argument of a forked pool process (the parent's pid follows): the process worker runs
 * only when it finds it, so started by hand or by mistake it says so and exits. @internal
 */
export const PROCESS_WORKER_MARKER = '--aiomisc-pool-process-worker';
