import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from './serialize-error';

/** A task as it crosses to a worker: [id, moduleUrl, name, args, context]. @internal */
export type WireTask = [number, string, string, unknown[], Array<[string, unknown]> | undefined];

/** Tag of a task result posted by a worker thread: [RESULT, id, ok, value | SerializedError]. @internal */
export const RESULT = 'aiomisc.pool.result';
/** Tag of a syncWaitCoroutine request: [WAIT, moduleUrl, name, args, SharedArrayBuffer, MessagePort]. @internal */
export const WAIT = 'aiomisc.pool.wait';

/** The last task of a batch, answered in piscina's reply: [id, ok, value]. @internal */
export type CompletedTask = [number, boolean, unknown];

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

/** Piscina task payloads. @internal */
export type PoolMessage =
  | { b: WireTask[] }
  | { s: WireTask }
  | { it: WireTask; port: MessagePort; state: SharedArrayBuffer };

/** workerData of a separate (one-shot) thread. @internal */
export interface SeparateData {
  aiomiscSeparate: true;
  task: WireTask;
  port?: MessagePort;
  state?: SharedArrayBuffer;
}
