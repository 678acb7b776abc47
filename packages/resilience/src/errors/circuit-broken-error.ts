import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.CircuitBroken');

/**
 * Thrown instead of calling the function while a {@link CircuitBreaker} is BROKEN, or while it
 * is RECOVERING and the call was not picked for the sample. Never counted in the breaker's
 * error ratio. The name is the seed's (`CircuitBroken`), kept as the Python has it.
 *
 * @example
 * ```ts
 * try {
 *   await breaker.call(fetchUser, id);
 * } catch (error) {
 *   if (CircuitBroken.isInstance(error)) return cachedUser(id);
 *   throw error;
 * }
 * ```
 */
export class CircuitBroken extends AiomiscError {
  private readonly [marker] = true;
  /** The last failure the breaker counted before it broke (undefined when there was none). */
  readonly lastException: unknown;

  constructor(lastException: unknown) {
    super('circuit is broken', lastException === undefined ? undefined : { cause: lastException });
    this.name = 'CircuitBroken';
    this.lastException = lastException;
  }

  /** True when `error` is a {@link CircuitBroken} from any copy of the package. */
  static override isInstance(error: unknown): error is CircuitBroken {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
