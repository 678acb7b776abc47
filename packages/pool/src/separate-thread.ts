import { Worker, type MessagePort } from 'node:worker_threads';
import { WorkerExitedError } from './errors/worker-exited-error';
import { deserializeError, type SerializedError } from './serialize-error';
import { handleWaitRequest, isWaitRequest } from './sync-wait-coroutine';
import { RESULT, type SeparateData, type WireTask } from './wire';
import { workerFile } from './worker-file';

/**
 * Starts a fresh thread for one task (threadedSeparate) or one generator
 * (IteratorWrapperSeparate). Resolves with the task's result; the thread is terminated once it
 * answered, so nothing the task left behind keeps it alive.
 * @internal
 */
export function runInSeparateThread(
  task: WireTask,
  options: { signal?: AbortSignal; port?: MessagePort; state?: SharedArrayBuffer } = {},
): Promise<unknown> {
  const { signal, port, state } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const data: SeparateData = { aiomiscSeparate: true, task, port, state };
  let filename: string;
  try {
    filename = workerFile('worker');
  } catch (error) {
    return Promise.reject(error);
  }
  const worker = new Worker(filename, {
    workerData: data,
    transferList: port ? [port] : [],
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      settle();
      void worker.terminate();
    };
    const onAbort = (): void => finish(() => reject(signal!.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: unknown) => {
      if (Array.isArray(message) && message[0] === RESULT) {
        const [, , ok, value] = message as [string, number, boolean, unknown];
        finish(() => (ok ? resolve(value) : reject(deserializeError(value as SerializedError))));
      } else if (isWaitRequest(message)) {
        handleWaitRequest(message);
      }
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (exitCode) => {
      finish(() =>
        reject(
          new WorkerExitedError(
            `the separate thread exited with code ${exitCode} before answering`,
            { exitCode },
          ),
        ),
      );
    });
  });
}
