import { AiomiscError, isMarked } from './aiomisc-error';

const marker = Symbol.for('aiomisc.error.ShutdownTimeoutError');

/**
 * An entrypoint's stop did not finish within `shutdownTimeout`. Names what was still running:
 * the services whose `stop()` or `start()` had not settled, or the phase that hung (a
 * receiver, the start in progress, an extension's teardown).
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
  /** What did not finish in time: service names, or a phase such as `extension "pool" teardown`. */
  readonly pending: readonly string[];

  constructor(timeoutMs: number, pending: readonly string[]) {
    super(
      `Shutdown did not happen in ${timeoutMs} ms; still running: ${pending.join(', ') || '(nothing named)'}`,
    );
    this.name = 'ShutdownTimeoutError';
    this.timeoutMs = timeoutMs;
    this.pending = pending;
  }

  static override isInstance(error: unknown): error is ShutdownTimeoutError {
    return isMarked(error, marker);
  }
}
