import { open, type FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expectOneOf, InvalidArgumentError } from '@aiomisc/core';
import { AsyncBinaryFile, AsyncTextFile, type FileParts, type TextEncoding } from './async-file';
import { AtomicTarget } from './atomic';
import { appendable, createCompressor, resolveCompression, type Compression } from './compression';
import { CompressedReadCore, CompressedWriteCore, PlainCore, type FileCore } from './file-core';
import { parseMode, type ParsedMode } from './mode';

/** Options of {@link asyncOpen}. */
export interface AsyncOpenOptions {
  /** Streaming compression of the file's contents. @default Compression.NONE */
  compression?: Compression;
  /**
   * Compression level: gzip 0-9, bz2 1-9, lzma (xz preset) 0-9, brotli 0-11, zstd 1-22.
   * @default 6 for gzip and lzma, 9 for bz2, 11 for brotli, 3 for zstd
   */
  level?: number;
  /** Text encoding (text modes only). @default 'utf-8' */
  encoding?: TextEncoding;
  /**
   * Write to a temporary file in the same directory and, on `close()`, fsync it and rename it
   * over the target (`w` modes) or link it into place only if nothing is there (`x` modes).
   * The target is never seen half-written; a failed or aborted write leaves it as it was and
   * removes the temporary file. Modes `w`, `w+`, `x`, `x+` only.
   * @default false
   */
  atomic?: boolean;
}

/** A mode string with `b` in it: {@link asyncOpen} returns an {@link AsyncBinaryFile}. */
export type BinaryMode = `${string}b${string}`;

const ENCODINGS: readonly TextEncoding[] = ['utf-8', 'utf8', 'ascii', 'latin1'];

/**
 * Opens a file the way Python's `open()` (and aiomisc's `async_open`) does, with every method
 * async: modes `r`, `w`, `a`, `x`, each with `+`, and `b` for bytes (else text); streaming
 * compression; atomic replacement.
 *
 * @param path the file (a string or a `file:` URL)
 * @param mode a Python mode string. @default 'r'
 * @throws {@link InvalidArgumentError} for a bad mode, compression, level or encoding (before
 *   anything is opened); the system error (`ENOENT`, `EEXIST`, ...) when the file cannot be opened
 * @throws {@link UnsupportedOperationError} for `Compression.ZSTD` on a Node without zstd
 *
 * @example
 * ```ts
 * import { asyncOpen, Compression } from '@aiomisc/io';
 *
 * const file = await asyncOpen('/tmp/example.txt.gz', 'w', { compression: Compression.GZIP });
 * await file.write('Hello World\n');
 * await file.close();
 * ```
 */
export function asyncOpen(
  path: string | URL,
  mode: BinaryMode,
  options?: AsyncOpenOptions,
): Promise<AsyncBinaryFile>;
export function asyncOpen(
  path: string | URL,
  mode?: string,
  options?: AsyncOpenOptions,
): Promise<AsyncTextFile>;
export async function asyncOpen(
  path: string | URL,
  mode = 'r',
  options: AsyncOpenOptions = {},
): Promise<AsyncBinaryFile | AsyncTextFile> {
  const filePath = resolvePath(path);
  const parsed = parseMode(mode);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'an object');
  }
  const { compression, level } = resolveCompression(options.compression ?? 'none', options.level);
  let encoding: TextEncoding = 'utf-8';
  if (options.encoding !== undefined) {
    if (parsed.binary) {
      throw new InvalidArgumentError(
        'encoding',
        options.encoding,
        `left out: mode "${mode}" is binary and takes no encoding`,
      );
    }
    encoding = expectOneOf('encoding', options.encoding, ENCODINGS);
  }
  const atomic = options.atomic ?? false;
  if (typeof atomic !== 'boolean') throw new InvalidArgumentError('atomic', atomic, 'a boolean');
  if (atomic && parsed.kind !== 'w' && parsed.kind !== 'x') {
    throw new InvalidArgumentError(
      'atomic',
      atomic,
      `false with mode "${mode}": an atomic write replaces the whole file, so it needs mode w or x (with or without +)`,
    );
  }
  if (compression !== 'none' && parsed.update) {
    throw new InvalidArgumentError(
      'mode',
      mode,
      `a mode without "+" with compression "${compression}": a compressed file is read or written as a stream, not both (as in Python)`,
    );
  }
  if (compression !== 'none' && parsed.kind === 'a' && !appendable(compression)) {
    throw new InvalidArgumentError(
      'mode',
      mode,
      `not an append mode with compression "${compression}": a second brotli stream after the first cannot be read back`,
    );
  }

  const target = atomic ? new AtomicTarget(filePath, parsed.kind === 'x') : undefined;
  const permissions = await target?.prepare();
  const handle = target
    ? await open(target.temporaryPath, parsed.update ? 'wx+' : 'wx', 0o666)
    : await open(filePath, parsed.flags);
  let core: FileCore;
  try {
    if (permissions !== undefined) await handle.chmod(permissions);
    core = await createCore(handle, parsed, compression, level);
  } catch (error) {
    await handle.close();
    await target?.discard();
    throw error;
  }
  const parts: FileParts = { path: filePath, mode: parsed, compression, core, atomic: target };
  return parsed.binary ? new AsyncBinaryFile(parts) : new AsyncTextFile(parts, encoding);
}

async function createCore(
  handle: FileHandle,
  mode: ParsedMode,
  compression: Compression,
  level: number,
): Promise<FileCore> {
  if (compression === 'none') {
    const size = mode.kind === 'w' || mode.kind === 'x' ? 0 : (await handle.stat()).size;
    return new PlainCore(handle, size, mode.kind === 'a');
  }
  if (mode.kind === 'r') return new CompressedReadCore(handle, compression);
  return new CompressedWriteCore(handle, compression, await createCompressor(compression, level));
}

function resolvePath(path: unknown): string {
  if (path instanceof URL) return fileURLToPath(path);
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('path', path, 'a non-empty string or a file: URL');
  }
  return path;
}
