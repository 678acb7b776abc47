import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.ProtoLoadError');

/**
 * A `.proto` file could not be loaded by {@link loadProtos}: it is missing, it does not parse
 * (the message names the file and the line), or it refers to a type that is not defined.
 * The error from protobuf.js or the file system is the `cause`.
 *
 * @example
 * ```ts
 * try {
 *   loadProtos('broken.proto');
 * } catch (error) {
 *   if (ProtoLoadError.isInstance(error)) console.error(error.file, error.line, error.message);
 * }
 * ```
 */
export class ProtoLoadError extends AiomiscError {
  private readonly [marker] = true;
  /** The file at fault (the one that does not parse, or the one that is missing). */
  readonly file: string;
  /** The line of the parse error, when there is one. */
  readonly line: number | undefined;

  constructor(
    file: string,
    line: number | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`, options);
    this.name = 'ProtoLoadError';
    this.file = file;
    this.line = line;
  }

  /** True when `error` is a {@link ProtoLoadError} from any copy of the package. */
  static override isInstance(error: unknown): error is ProtoLoadError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
