import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.UnsupportedOperationError');

/**
 * The file cannot do this in its mode or with its compression: reading a file opened for
 * writing, writing one opened for reading, seeking backwards or from the end while writing a
 * compressed file, truncating a compressed file (Python's `io.UnsupportedOperation`).
 *
 * @example
 * ```ts
 * const file = await asyncOpen('data.gz', 'w', { compression: Compression.GZIP });
 * await file.seek(0, 2); // UnsupportedOperationError: seek from the end is not supported ...
 * ```
 */
export class UnsupportedOperationError extends AiomiscError {
  private readonly [marker] = true;
  /** The operation that was refused. */
  readonly operation: string;

  constructor(operation: string, message: string) {
    super(message);
    this.name = 'UnsupportedOperationError';
    this.operation = operation;
  }

  /** True when `error` is an {@link UnsupportedOperationError} from any copy of the package. */
  static override isInstance(error: unknown): error is UnsupportedOperationError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
