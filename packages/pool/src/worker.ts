import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { serializeError, type SerializedError } from './serialize-error';
import { lookupFunction } from './function-reference';
import { runIterator, runTask, settle, workerState } from './task-runner';
import {
  RESULT,
  type TaskReply,
  type PoolMessage,
  type ResultMessage,
  type SeparateData,
  type WireTask,
} from './wire';

// The worker-thread entry of @aiomisc/pool: piscina loads it and calls `handleTask` for every
// task; a one-shot thread of threadedSeparate runs the task in its workerData at load.

if (!isMainThread) workerState.inWorker = true;

function post(message: ResultMessage): void {
  try {
    parentPort!.postMessage(message);
  } catch (error) {
    // The value cannot be cloned: report that instead of leaving the caller waiting.
    parentPort!.postMessage([
      RESULT,
      message[1],
      false,
      serializeError(error),
    ] satisfies ResultMessage);
  }
}

function finish(task: WireTask, outcome: [boolean, unknown]): void {
  post([RESULT, task[0], outcome[0], outcome[1]]);
}

function isPrimitive(value: unknown): boolean {
  return (
    value === null ||
    (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')
  );
}

/**
 * The last task's result rides on piscina's own reply (one message per batch instead of two)
 * when it surely clones: a primitive or a serialized error. Anything else goes through `post`,
 * which turns a clone failure into an error for that task instead of a dead thread.
 */
function reply(task: WireTask, outcome: [boolean, unknown]): TaskReply {
  if (!outcome[0]) return { e: outcome[1] as SerializedError };
  if (isPrimitive(outcome[1])) return outcome[1] as TaskReply;
  finish(task, outcome);
  return POSTED;
}

const POSTED = { p: 1 } as const;

/**
 * Runs the tasks in order, synchronously while they are synchronous (no microtask hop per
 * task), switching to awaiting from the first task that returns a promise.
 */
function runBatch(tasks: WireTask[], from = 0): TaskReply | Promise<TaskReply> {
  const last = tasks.length - 1;
  for (let index = from; index <= last; index++) {
    const task = tasks[index]!;
    const outcome = runTask(task);
    if (outcome instanceof Promise) {
      return outcome.then((settled) => {
        if (index === last) return reply(task, settled);
        finish(task, settled);
        return runBatch(tasks, index + 1);
      });
    }
    if (index === last) return reply(task, outcome);
    finish(task, outcome);
  }
  return POSTED;
}

/**
 * A lone task (the sequential path): a known, context-free, synchronous function returning a
 * primitive is called directly, without the outcome pair and closures of `runTask`; anything
 * else takes the batch path, which behaves the same.
 */
function runLone(task: WireTask): TaskReply | Promise<TaskReply> {
  const fn = task[4] === undefined ? lookupFunction(task[1], task[2]) : undefined;
  if (fn === undefined) return runBatch([task]);
  let value: unknown;
  try {
    value = (fn as (...args: unknown[]) => unknown)(...task[3]);
  } catch (error) {
    return { e: serializeError(error) };
  }
  if (isPrimitive(value)) return value as TaskReply;
  const outcome = settle(value);
  return outcome instanceof Promise
    ? outcome.then((settled) => reply(task, settled))
    : reply(task, outcome);
}

/**
 * Piscina's task handler: a batch of tasks run one after another (each result is posted as
 * soon as it is ready), a single abortable task, or a generator.
 * @internal
 */
export function handleTask(message: PoolMessage): unknown {
  if (Array.isArray(message)) {
    // A lone task is sent bare; a batch is an array of tasks.
    return typeof message[0] === 'number'
      ? runLone(message as WireTask)
      : runBatch(message as WireTask[]);
  }
  if ('s' in message) {
    const task = message.s;
    const outcome = runTask(task);
    return outcome instanceof Promise
      ? outcome.then((settled) => reply(task, settled))
      : reply(task, outcome);
  }
  return runIterator(message.it, message.port, message.state);
}

const separate = workerData as SeparateData | undefined;
if (!isMainThread && separate?.aiomiscSeparate) {
  if (separate.port && separate.state) {
    const port = separate.port;
    void runIterator(separate.task, port, separate.state).finally(() =>
      finish(separate.task, [true, undefined]),
    );
  } else {
    const outcome = runTask(separate.task);
    if (outcome instanceof Promise) void outcome.then((result) => finish(separate.task, result));
    else finish(separate.task, outcome);
  }
}
