import { AiomiscError, isMarked } from './aiomisc-error';

const marker = Symbol.for('aiomisc.error.InterruptSignalError');

/**
 * The error passed to every service's `stop()` when an OS signal (SIGINT, SIGTERM by default)
 * stopped the entrypoint, as the Python's `RuntimeError("Interrupt signal received")`.
 *
 * @example
 * ```ts
 * class Db extends Service {
 *   async start() {}
 *   override async stop(error?: unknown) {
 *     if (InterruptSignalError.isInstance(error)) console.log('stopping on', error.signal);
 *   }
 * }
 * ```
 */
export class InterruptSignalError extends AiomiscError {
  private readonly [marker] = true;
  /** The signal that was received. */
  readonly signal: NodeJS.Signals;

  constructor(signal: NodeJS.Signals) {
    super(`Interrupt signal received: ${signal}`);
    this.name = 'InterruptSignalError';
    this.signal = signal;
  }

  static override isInstance(error: unknown): error is InterruptSignalError {
    return isMarked(error, marker);
  }
}
