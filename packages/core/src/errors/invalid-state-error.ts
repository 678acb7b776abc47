import { AiomiscError, isMarked } from './aiomisc-error';

const marker = Symbol.for('aiomisc.error.InvalidStateError');

/**
 * An operation was called in a state that does not allow it: starting an entrypoint twice,
 * starting a running callback, stopping one that never started, or `Entrypoint.current()`
 * with no entrypoint running.
 *
 * @example
 * ```ts
 * Entrypoint.current(); // InvalidStateError: no current entrypoint is set
 * ```
 */
export class InvalidStateError extends AiomiscError {
  private readonly [marker] = true;

  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }

  static override isInstance(error: unknown): error is InvalidStateError {
    return isMarked(error, marker);
  }
}
