import type { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { expectNumber, expectOneOf } from '@aiomisc/core';
import { createBzip2Stream } from './bzip2';
import { CompressedDataError } from './errors/compressed-data-error';
import { UnsupportedOperationError } from './errors/unsupported-operation-error';

/**
 * The streaming compressions {@link asyncOpen} reads and writes. `NONE`, `GZIP`, `BZ2` and
 * `LZMA` (the `.xz` format, as Python's `lzma.open` writes) are the seed's four; `BROTLI` and
 * `ZSTD` come from Node's zlib (`ZSTD` only where the running Node has `zlib.createZstdCompress`,
 * Node 22.15 and later).
 *
 * @example
 * ```ts
 * const file = await asyncOpen('events.log.xz', 'w', { compression: Compression.LZMA });
 * ```
 */
export const Compression = {
  NONE: 'none',
  GZIP: 'gzip',
  BZ2: 'bz2',
  LZMA: 'lzma',
  BROTLI: 'brotli',
  ZSTD: 'zstd',
} as const;

/** One of the {@link Compression} values. */
export type Compression = (typeof Compression)[keyof typeof Compression];

const NAMES = Object.values(Compression);

/** The levels each compression accepts and its default. @internal */
const LEVELS: Record<
  Exclude<Compression, 'none'>,
  { min: number; max: number; default: number }
> = {
  gzip: { min: 0, max: 9, default: 6 },
  bz2: { min: 1, max: 9, default: 9 },
  lzma: { min: 0, max: 9, default: 6 },
  brotli: { min: 0, max: 11, default: 11 },
  zstd: { min: 1, max: 22, default: 3 },
};

/** The I/O chunk size: file reads, compressor output and write batching. @internal */
export const CHUNK_SIZE = 64 * 1024;

/** Validates `compression` and, when given, `level`; returns the level to use. @internal */
export function resolveCompression(
  compression: unknown,
  level: unknown,
): { compression: Compression; level: number } {
  const name = expectOneOf('compression', compression, NAMES);
  if (name === 'none') {
    if (level !== undefined) expectNumber('level', level, { min: 0, max: 0, integer: true });
    return { compression: name, level: 0 };
  }
  if (name === 'zstd' && !zstdAvailable()) {
    throw new UnsupportedOperationError(
      'compression',
      `compression "zstd" needs zlib.createZstdCompress, which Node.js ${process.version} does not have (Node 22.15 or later has it)`,
    );
  }
  const limits = LEVELS[name];
  const resolved =
    level === undefined
      ? limits.default
      : expectNumber('level', level, { ...limits, integer: true });
  return { compression: name, level: resolved };
}

/** Whether the running Node has zstd in zlib. @internal */
export function zstdAvailable(): boolean {
  return typeof (zlib as unknown as Record<string, unknown>).createZstdCompress === 'function';
}

/** Whether a file of this compression can be appended to as a second stream or member. @internal */
export function appendable(compression: Compression): boolean {
  return compression !== 'brotli';
}

interface Liblzma {
  createXz(options: { preset: number }, streamOptions: { highWaterMark: number }): Duplex;
  createUnxz(options: { chunkSize: number }, streamOptions: { highWaterMark: number }): Duplex;
}

let liblzma: Promise<Liblzma> | undefined;

function xz(): Promise<Liblzma> {
  // Loaded on first use (an ES module with a native binding, needed by LZMA files only).
  liblzma ??= import('node-liblzma') as Promise<Liblzma>;
  return liblzma;
}

const LZMA_STREAM_END = 1;

type LzmaCallback = (status: number, availableIn: number, availableOut: number) => boolean;

interface UnxzInternals {
  lzma: { code(...args: [...unknown[], LzmaCallback]): unknown };
  _flush(callback: (error?: Error | null) => void): void;
}

/**
 * node-liblzma 4.0.2 ends quietly when the input stops mid-stream (it finishes without asking
 * liblzma a second time, so liblzma never reports LZMA_BUF_ERROR). Watch for liblzma's
 * LZMA_STREAM_END and fail the final flush when it never came.
 */
function detectTruncation(decoder: Duplex): Duplex {
  const internals = decoder as unknown as UnxzInternals;
  const native = internals.lzma;
  let complete = false;
  const code = (...args: [...unknown[], LzmaCallback]): unknown => {
    const callback = args.pop() as LzmaCallback;
    return native.code(...args, (status: number, availableIn: number, availableOut: number) => {
      if (status === LZMA_STREAM_END) complete = true;
      return callback(status, availableIn, availableOut);
    });
  };
  // The binding's methods are read-only: put a view in front of it that wraps `code`.
  internals.lzma = new Proxy(native, {
    get(target, property): unknown {
      if (property === 'code') return code;
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  const flush = internals._flush.bind(decoder);
  internals._flush = (callback) =>
    flush((error) => {
      if (error || complete) callback(error);
      else
        callback(
          new CompressedDataError(
            'lzma',
            'the compressed data ends before the stream does (a truncated file)',
          ),
        );
    });
  return decoder;
}

type ZstdFactory = (options: { chunkSize: number; params: Record<number, number> }) => Duplex;

/** A compressing Transform for `compression` at `level`. @internal */
export async function createCompressor(
  compression: Exclude<Compression, 'none'>,
  level: number,
): Promise<Duplex> {
  switch (compression) {
    case 'gzip':
      return zlib.createGzip({ level, chunkSize: CHUNK_SIZE });
    case 'brotli':
      return zlib.createBrotliCompress({
        chunkSize: CHUNK_SIZE,
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level },
      });
    case 'zstd': {
      const z = zlib as unknown as Record<string, unknown>;
      const constants = zlib.constants as unknown as Record<string, number>;
      const factory = z.createZstdCompress as ZstdFactory;
      return factory({
        chunkSize: CHUNK_SIZE,
        params: { [constants.ZSTD_c_compressionLevel!]: level },
      });
    }
    case 'bz2':
      return createBzip2Stream('compress', level, CHUNK_SIZE);
    case 'lzma':
      return (await xz()).createXz({ preset: level }, { highWaterMark: CHUNK_SIZE });
  }
}

/** A decompressing Transform for `compression`. @internal */
export async function createDecompressor(
  compression: Exclude<Compression, 'none'>,
): Promise<Duplex> {
  switch (compression) {
    case 'gzip':
      return zlib.createGunzip({ chunkSize: CHUNK_SIZE });
    case 'brotli':
      return zlib.createBrotliDecompress({ chunkSize: CHUNK_SIZE });
    case 'zstd': {
      const factory = (zlib as unknown as Record<string, unknown>)
        .createZstdDecompress as (options: { chunkSize: number }) => Duplex;
      return factory({ chunkSize: CHUNK_SIZE });
    }
    case 'bz2':
      return createBzip2Stream('decompress', 0, CHUNK_SIZE);
    case 'lzma':
      // Concatenated .xz streams (as `a` mode writes them) are read as one, like `xz -d` does.
      return detectTruncation(
        (await xz()).createUnxz({ chunkSize: 4 * CHUNK_SIZE }, { highWaterMark: CHUNK_SIZE }),
      );
  }
}

/** Whether the compressor has zlib's `flush(kind, callback)`. @internal */
export function syncFlush(compressor: Duplex, compression: Compression): Promise<void> | undefined {
  if (compression !== 'gzip' && compression !== 'brotli' && compression !== 'zstd')
    return undefined;
  const stream = compressor as unknown as {
    flush(kind: number, callback: () => void): void;
    flush(callback: () => void): void;
  };
  return new Promise<void>((resolve) => {
    if (compression === 'gzip') stream.flush(zlib.constants.Z_SYNC_FLUSH, resolve);
    else stream.flush(resolve);
  });
}
