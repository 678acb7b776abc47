import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.WorkerExitedError');

/**
 * The thread or process running a task died before it answered (`process.exit()`, a crash, a
 * kill from outside). Only the task that was running fails; the worker is replaced.
 *
 * @example
 * ```ts
 * try {
 *   await pool.createTask({ moduleUrl, name: 'exitNow' });
 * } catch (error) {
 *   if (WorkerExitedError.isInstance(error)) console.log(error.pid, error.exitCode);
 * }
 * ```
 */
export class WorkerExitedError extends AiomiscError {
  private readonly [marker] = true;
  /** Process id of the worker process, or null for a thread. */
  readonly pid: number | null;
  /** Exit code, or null when it was killed by a signal. */
  readonly exitCode: number | null;
  /** The signal that killed it, or null. */
  readonly signalCode: string | null;

  constructor(
    message: string,
    details: { pid?: number | null; exitCode?: number | null; signalCode?: string | null },
  ) {
    super(message);
    this.name = 'WorkerExitedError';
    this.pid = details.pid ?? null;
    this.exitCode = details.exitCode ?? null;
    this.signalCode = details.signalCode ?? null;
  }

  static override isInstance(error: unknown): error is WorkerExitedError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
