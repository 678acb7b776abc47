import { serializeError } from './serialize-error';
import { runTask, workerState } from './task-runner';
import type { WireTask } from './wire';

// The child-process entry of WorkerPool and ProcessPoolExecutor: it runs one task at a time
// from the parent's IPC messages and leaves when the IPC channel closes.

/** Parent -> child: ['t', id, moduleUrl, name, args] or ['i', moduleUrl, name, args]. @internal */
export type ParentMessage = ['t', number, string, string, unknown[]] | ['i', string, string, unknown[]];
/** Child -> parent: ['r', id, ok, value], ['i', ok, value] or ['ready']. @internal */
export type ChildMessage = ['r', number, boolean, unknown] | ['i', boolean, unknown] | ['ready'];

// With a callback, a send on a closed channel reports to it instead of crashing the process.
const ignore = (): void => undefined;

function send(message: ChildMessage): void {
  if (!process.connected) return;
  try {
    process.send!(message, undefined, undefined, ignore);
  } catch (error) {
    // The value cannot be cloned: report that instead of leaving the parent waiting.
    if (message[0] === 'r') process.send!(['r', message[1], false, serializeError(error)] satisfies ChildMessage, undefined, undefined, ignore);
    else if (message[0] === 'i') process.send!(['i', false, serializeError(error)] satisfies ChildMessage, undefined, undefined, ignore);
  }
}

async function onMessage(message: ParentMessage): Promise<void> {
  if (message[0] === 't') {
    const [, id, moduleUrl, name, args] = message;
    const task: WireTask = [id, moduleUrl, name, args, undefined];
    const outcome = runTask(task);
    const [ok, value] = outcome instanceof Promise ? await outcome : outcome;
    send(['r', id, ok, value]);
  } else if (message[0] === 'i') {
    const [, moduleUrl, name, args] = message;
    const outcome = runTask([0, moduleUrl, name, args, undefined]);
    const [ok, value] = outcome instanceof Promise ? await outcome : outcome;
    send(['i', ok, value]);
  }
}

if (typeof process.send === 'function') {
  workerState.inWorker = true;
  process.on('message', (message: ParentMessage) => void onMessage(message));
  // The parent closed the pool or died: leave.
  process.on('disconnect', () => process.exit(0));
  send(['ready']);
}
