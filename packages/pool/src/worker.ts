import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { serializeError } from './serialize-error';
import { runIterator, runTask, workerState } from './task-runner';
import { RESULT, type PoolMessage, type ResultMessage, type SeparateData, type WireTask } from './wire';

// The worker-thread entry of @aiomisc/pool: piscina loads it and calls `handleTask` for every
// task; a one-shot thread of threadedSeparate runs the task in its workerData at load.

if (!isMainThread) workerState.inWorker = true;

function post(message: ResultMessage): void {
  try {
    parentPort!.postMessage(message);
  } catch (error) {
    // The value cannot be cloned: report that instead of leaving the caller waiting.
    parentPort!.postMessage([RESULT, message[1], false, serializeError(error)] satisfies ResultMessage);
  }
}

function finish(task: WireTask, outcome: [boolean, unknown]): void {
  post([RESULT, task[0], outcome[0], outcome[1]]);
}

async function runBatch(tasks: WireTask[]): Promise<void> {
  for (const task of tasks) {
    const outcome = runTask(task);
    finish(task, outcome instanceof Promise ? await outcome : outcome);
  }
}

/**
 * Piscina's task handler: a batch of tasks run one after another (each result is posted as
 * soon as it is ready), a single abortable task, or a generator.
 * @internal
 */
export async function handleTask(message: PoolMessage): Promise<unknown> {
  if ('b' in message) return runBatch(message.b);
  if ('s' in message) {
    const outcome = runTask(message.s);
    finish(message.s, outcome instanceof Promise ? await outcome : outcome);
    return;
  }
  return runIterator(message.it, message.port, message.state);
}

const separate = workerData as SeparateData | undefined;
if (!isMainThread && separate?.aiomiscSeparate) {
  if (separate.port && separate.state) {
    const port = separate.port;
    void runIterator(separate.task, port, separate.state).finally(() => finish(separate.task, [true, undefined]));
  } else {
    const outcome = runTask(separate.task);
    if (outcome instanceof Promise) void outcome.then((result) => finish(separate.task, result));
    else finish(separate.task, outcome);
  }
}
