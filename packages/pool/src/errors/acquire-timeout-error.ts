import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.AcquireTimeoutError');

/**
 * `PoolBase.acquire({ timeout })` waited `timeoutMs` without getting an instance.
 *
 * @example
 * ```ts
 * try {
 *   await using lease = await pool.acquire({ timeout: 500 });
 * } catch (error) {
 *   if (AcquireTimeoutError.isInstance(error)) console.log('busy for', error.timeoutMs, 'ms');
 * }
 * ```
 */
export class AcquireTimeoutError extends AiomiscError {
  private readonly [marker] = true;
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`no pool instance became available within ${timeoutMs} ms`);
    this.name = 'AcquireTimeoutError';
    this.timeoutMs = timeoutMs;
  }

  static override isInstance(error: unknown): error is AcquireTimeoutError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
