import { AiomiscError, isMarked } from './aiomisc-error';

const marker = Symbol.for('aiomisc.error.ShutdownTimeoutError');

/**
 * An entrypoint's stop did not finish within `shutdownTimeout`. Names the services whose
 * `stop()` or `start()` was still running.
 *
 * @example
 * ```ts
 * try {
 *   await ep.stop();
 * } catch (error) {
 *   if (ShutdownTimeoutError.isInstance(error)) console.error(error.pending);
 * }
 * ```
 */
export class ShutdownTimeoutError extends AiomiscError {
  private readonly [marker] = true;
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
  /** Names of the services that did not stop in time. */
  readonly pending: readonly string[];

  constructor(timeoutMs: number, pending: readonly string[]) {
    super(
      `Shutdown did not happen in ${timeoutMs} ms; services not stopped: ${pending.join(', ') || '(none)'}`,
    );
    this.name = 'ShutdownTimeoutError';
    this.timeoutMs = timeoutMs;
    this.pending = pending;
  }

  static override isInstance(error: unknown): error is ShutdownTimeoutError {
    return isMarked(error, marker);
  }
}
