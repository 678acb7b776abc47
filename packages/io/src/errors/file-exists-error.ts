import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.FileExistsError');

/**
 * An atomic `x` open found the target already there (at open, or when the finished file was to
 * be linked into place). It carries `code: 'EEXIST'` like the system error that a plain `x` open
 * gives, so `error.code === 'EEXIST'` catches both.
 *
 * @example
 * ```ts
 * await asyncOpen('report.txt', 'x', { atomic: true });
 * // FileExistsError: EEXIST: file already exists, "report.txt"
 * ```
 */
export class FileExistsError extends AiomiscError {
  private readonly [marker] = true;
  /** Always `'EEXIST'`, as on the system error. */
  readonly code = 'EEXIST';
  /** The path that exists. */
  readonly path: string;

  constructor(path: string) {
    super(`EEXIST: file already exists, ${JSON.stringify(path)}`);
    this.name = 'FileExistsError';
    this.path = path;
  }

  /** True when `error` is a {@link FileExistsError} from any copy of the package. */
  static override isInstance(error: unknown): error is FileExistsError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
