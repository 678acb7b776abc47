import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.ClosedFileError');

/**
 * An operation was called on a file after `close()` (or `abort()`) began: the Python
 * `ValueError: I/O operation on closed file`.
 *
 * @example
 * ```ts
 * await file.close();
 * await file.read(); // ClosedFileError: I/O operation on closed file "/tmp/data.txt" (read)
 * ```
 */
export class ClosedFileError extends AiomiscError {
  private readonly [marker] = true;
  /** The path the file was opened with. */
  readonly path: string;
  /** The operation that was refused. */
  readonly operation: string;

  constructor(path: string, operation: string) {
    super(`I/O operation on closed file ${JSON.stringify(path)} (${operation})`);
    this.name = 'ClosedFileError';
    this.path = path;
    this.operation = operation;
  }

  /** True when `error` is a {@link ClosedFileError} from any copy of the package. */
  static override isInstance(error: unknown): error is ClosedFileError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
