import { serializeError } from './serialize-error';
import { runTask, workerState } from './task-runner';
import { exitWithParent } from '@aiomisc/core';
import { PROCESS_WORKER_MARKER, type WireTask } from './wire';

// The child-process entry of WorkerPool and ProcessPoolExecutor. Tasks run strictly one after
// another; the parent may send the next ones ahead (prefetch) and cancel those not started yet.

/**
 * Parent -> child: ['t', id, moduleUrl, name, args] (run), ['c', id] (cancel a queued task)
 * or ['i', moduleUrl, name, args] (initializer). @internal
 */
export type ParentMessage =
  ['t', number, string, string, unknown[]] | ['c', number] | ['i', string, string, unknown[]];
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
    if (message[0] === 'r')
      process.send!(
        ['r', message[1], false, serializeError(error)] satisfies ChildMessage,
        undefined,
        undefined,
        ignore,
      );
    else if (message[0] === 'i')
      process.send!(
        ['i', false, serializeError(error)] satisfies ChildMessage,
        undefined,
        undefined,
        ignore,
      );
  }
}

const queue: WireTask[] = [];
const cancelled = new Set<number>();
let running = false;
let scheduled = false;

// Deferred to the check phase, so that cancels read in the same batch of messages as their
// task (sent while this process was busy) are seen before the task would start.
function schedule(): void {
  if (running || scheduled || queue.length === 0) return;
  scheduled = true;
  setImmediate(drain);
}

function drain(): void {
  scheduled = false;
  while (!running && queue.length > 0) {
    const task = queue.shift()!;
    if (cancelled.delete(task[0])) continue;
    const outcome = runTask(task);
    if (outcome instanceof Promise) {
      running = true;
      void outcome.then((settled) => {
        running = false;
        send(['r', task[0], settled[0], settled[1]]);
        schedule();
      });
      return;
    }
    send(['r', task[0], outcome[0], outcome[1]]);
  }
}

async function initialize(moduleUrl: string, name: string, args: unknown[]): Promise<void> {
  running = true;
  const outcome = runTask([0, moduleUrl, name, args, undefined]);
  const [ok, value] = outcome instanceof Promise ? await outcome : outcome;
  running = false;
  send(['i', ok, value]);
  schedule();
}

function onMessage(message: ParentMessage): void {
  if (message[0] === 't') {
    const [, id, moduleUrl, name, args] = message;
    queue.push([id, moduleUrl, name, args, undefined]);
    schedule();
  } else if (message[0] === 'c') {
    if (queue.some((task) => task[0] === message[1])) cancelled.add(message[1]);
  } else if (message[0] === 'i') {
    void initialize(message[1], message[2], message[3]);
  }
}

const markerAt = process.argv.indexOf(PROCESS_WORKER_MARKER);
if (markerAt === -1 || typeof process.send !== 'function') {
  process.stderr.write(
    `${process.argv[1] ?? 'this file'} is the process worker of @aiomisc/pool: WorkerPool and ProcessPoolExecutor fork it with an IPC channel; it does nothing when started any other way.\n`,
  );
  process.exitCode = 1;
} else {
  workerState.inWorker = true;
  process.on('message', onMessage);
  // The parent closed the pool or died: leave.
  process.on('disconnect', () => process.exit(0));
  const parent = Number(process.argv[markerAt + 1]);
  // However the parent dies (SIGKILL included), even while a task blocks the main thread.
  exitWithParent(parent);
  send(['ready']);
}
