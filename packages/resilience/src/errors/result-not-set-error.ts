import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.ResultNotSetError');

/**
 * An aggregated call got no result: the {@link aggregate} function returned fewer results than
 * it received values, or the {@link aggregateAsync} function left the caller's future unset.
 *
 * @example
 * ```ts
 * const square = aggregateAsync({ leewayMs: 5 })(async (_signal, ...args) => {
 *   args[0]?.future.setResult(args[0].value ** 2); // forgets the others
 * });
 * await Promise.allSettled([square(1), square(2)]); // the second rejects with ResultNotSetError
 * ```
 */
export class ResultNotSetError extends AiomiscError {
  private readonly [marker] = true;

  constructor(message = 'the aggregated function did not set a result for this call') {
    super(message);
    this.name = 'ResultNotSetError';
  }

  /** True when `error` is a {@link ResultNotSetError} from any copy of the package. */
  static override isInstance(error: unknown): error is ResultNotSetError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
