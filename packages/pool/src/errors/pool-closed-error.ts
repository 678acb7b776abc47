import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.PoolClosedError');

/**
 * The pool is closed: a `submit`, `acquire` or `createTask` after `close()`, or a task that was
 * still queued when the pool closed.
 *
 * @example
 * ```ts
 * await pool.close();
 * await pool.acquire(); // rejects with PoolClosedError at once
 * ```
 */
export class PoolClosedError extends AiomiscError {
  private readonly [marker] = true;

  constructor(message = 'pool is closed') {
    super(message);
    this.name = 'PoolClosedError';
  }

  static override isInstance(error: unknown): error is PoolClosedError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
