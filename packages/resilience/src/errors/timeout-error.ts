import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.TimeoutError');

/**
 * A time limit ran out: the limit of {@link timeout}, or an `attemptTimeout` or `deadline` of
 * {@link asyncbackoff}. The function's AbortSignal is aborted with this same error.
 *
 * @example
 * ```ts
 * try {
 *   await timeout(100)((signal) => fetch(url, { signal }))();
 * } catch (error) {
 *   if (TimeoutError.isInstance(error)) console.log(`gave up after ${error.timeoutMs} ms`);
 * }
 * ```
 */
export class TimeoutError extends AiomiscError {
  private readonly [marker] = true;
  /** The limit that ran out, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, message = `timed out after ${timeoutMs} ms`) {
    super(message);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }

  /** True when `error` is a {@link TimeoutError} from any copy of the package. */
  static override isInstance(error: unknown): error is TimeoutError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
