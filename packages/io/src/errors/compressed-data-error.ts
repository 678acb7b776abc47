import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.CompressedDataError');

/**
 * A compressed file is truncated or corrupt, found by this package rather than by the codec
 * (an `.xz` file that ends before its stream does, a bzip2 decoder failure). zlib's own errors
 * (gzip, brotli, zstd) arrive as they are.
 *
 * @example
 * ```ts
 * const file = await asyncOpen('cut-short.xz', 'r', { compression: Compression.LZMA });
 * await file.read(); // CompressedDataError: lzma: the compressed data ends before the stream does ...
 * ```
 */
export class CompressedDataError extends AiomiscError {
  private readonly [marker] = true;
  /** The compression whose data was bad. */
  readonly compression: string;

  constructor(compression: string, message: string, options?: { cause?: unknown }) {
    super(`${compression}: ${message}`, options);
    this.name = 'CompressedDataError';
    this.compression = compression;
  }

  /** True when `error` is a {@link CompressedDataError} from any copy of the package. */
  static override isInstance(error: unknown): error is CompressedDataError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
