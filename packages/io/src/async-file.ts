import { InvalidArgumentError } from '@aiomisc/core';
import type { AtomicTarget } from './atomic';
import type { Compression } from './compression';
import { ClosedFileError } from './errors/closed-file-error';
import { UnsupportedOperationError } from './errors/unsupported-operation-error';
import type { FileCore, Whence } from './file-core';
import type { ParsedMode } from './mode';

/** The text encodings a text-mode file accepts. */
export type TextEncoding = 'utf-8' | 'utf8' | 'ascii' | 'latin1';

/** @internal */
export interface FileParts {
  path: string;
  mode: ParsedMode;
  compression: Compression;
  core: FileCore;
  atomic: AtomicTarget | undefined;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * What {@link asyncOpen} returns: a file with Python's file methods, every one async and run one
 * at a time in call order (so concurrent readers of one file see each line once). `TData` is
 * `Buffer` for binary modes (`b`) and `string` for text modes.
 */
export abstract class AsyncFile<TData extends string | Buffer>
  implements AsyncIterable<TData>, AsyncDisposable
{
  /** The path the file was opened with. */
  readonly name: string;
  /** The mode string as given, such as `'r+b'`. */
  readonly mode: string;
  /** The compression the file is read or written with. */
  readonly compression: Compression;
  /** True for `atomic` files: `close()` renames the finished file over the target. */
  readonly atomic: boolean;

  /** @internal */
  protected readonly core: FileCore;
  private readonly parsed: ParsedMode;
  private readonly target: AtomicTarget | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private busy = 0;
  private closing: Promise<void> | undefined;

  /** @internal */
  constructor(parts: FileParts) {
    this.name = parts.path;
    this.mode = parts.mode.mode;
    this.compression = parts.compression;
    this.atomic = parts.atomic !== undefined;
    this.core = parts.core;
    this.parsed = parts.mode;
    this.target = parts.atomic;
  }

  /** @internal */
  protected abstract decode(bytes: Buffer): TData;
  /** @internal */
  protected abstract encode(data: TData): { bytes: Uint8Array; owned: boolean; count: number };

  /** True once `close()` or `abort()` was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Whether the file was opened for reading. @throws {@link ClosedFileError} once closed */
  readable(): boolean {
    this.ensureOpen('readable');
    return this.parsed.readable;
  }

  /** Whether the file was opened for writing. @throws {@link ClosedFileError} once closed */
  writable(): boolean {
    this.ensureOpen('writable');
    return this.parsed.writable;
  }

  /** Whether `seek()` can move backwards (false for compressed files open for writing). */
  seekable(): boolean {
    this.ensureOpen('seekable');
    return this.core.seekable;
  }

  /** Runs operations one at a time, in call order. */
  private exclusive<TResult>(operation: string, run: () => Promise<TResult>): Promise<TResult> {
    if (this.closing) return Promise.reject(new ClosedFileError(this.name, operation));
    this.busy++;
    const result = this.tail.then(run);
    this.tail = result.then(
      () => this.busy--,
      () => this.busy--,
    );
    return result;
  }

  private ensureOpen(operation: string): void {
    if (this.closing) throw new ClosedFileError(this.name, operation);
  }

  private ensureReadable(): void {
    if (!this.parsed.readable)
      throw new UnsupportedOperationError(
        'read',
        `the file was opened with mode "${this.mode}", not for reading`,
      );
  }

  private ensureWritable(): void {
    if (!this.parsed.writable)
      throw new UnsupportedOperationError(
        'write',
        `the file was opened with mode "${this.mode}", not for writing`,
      );
  }

  /**
   * Reads `size` characters (text) or bytes (binary), fewer at the end of the file; reads
   * everything left when `size` is negative or left out. Returns an empty value at the end.
   */
  read(size = -1): Promise<TData> {
    const count = expectSize('size', size);
    return this.exclusive('read', async () => {
      this.ensureReadable();
      return this.decode(await this.readUnits(count));
    });
  }

  /** @internal Reads `count` units (bytes; characters for text files). */
  protected readUnits(count: number): Promise<Buffer> {
    return this.core.readBytes(count);
  }

  /** @internal Reads one line of at most `limit` units. */
  protected readLineUnits(limit: number): Promise<Buffer> {
    return this.core.readLine(limit);
  }

  /**
   * Reads through the next `\n` (kept in the result), or at most `limit` characters (text) or
   * bytes (binary) when `limit` is not negative. Returns an empty value at the end of the file.
   */
  readline(limit = -1): Promise<TData> {
    const count = expectSize('limit', limit);
    if (count < 0 && this.busy === 0 && !this.closing && this.parsed.readable) {
      const line = this.core.lineSync();
      if (line) return Promise.resolve(this.decode(line));
    }
    return this.exclusive('readline', async () => {
      this.ensureReadable();
      return this.decode(await this.readLineUnits(count));
    });
  }

  /**
   * Reads the remaining lines; stops after the line that brings the total size to `hint`
   * characters or bytes when `hint` is positive.
   */
  readlines(hint = -1): Promise<TData[]> {
    const limit = expectSize('hint', hint);
    return this.exclusive('readlines', async () => {
      this.ensureReadable();
      const lines: TData[] = [];
      let total = 0;
      for (;;) {
        const line = await this.core.readLine(-1);
        if (line.length === 0) return lines;
        const value = this.decode(line);
        lines.push(value);
        total += value.length;
        if (limit > 0 && total >= limit) return lines;
      }
    });
  }

  /** Writes `data`; returns the number of characters (text) or bytes (binary) written. */
  write(data: TData): Promise<number> {
    const encoded = this.encode(data);
    return this.exclusive('write', async () => {
      this.ensureWritable();
      await this.core.write(encoded.bytes, encoded.owned);
      return encoded.count;
    });
  }

  /** Writes each item in order, adding no line separators (as Python's `writelines`). */
  async writelines(lines: Iterable<TData> | AsyncIterable<TData>): Promise<void> {
    this.ensureOpen('writelines');
    for await (const line of lines) await this.write(line);
  }

  /**
   * Moves to `offset` from the start (`whence` 0), the current position (1) or the end (2) and
   * returns the new position. Compressed files read forwards to get there, and start again from
   * the beginning to go back; while writing them only forward seeks work (they write zeros).
   * Text files take only `seek(n)`, `seek(0, 1)` and `seek(0, 2)`, as in Python.
   */
  seek(offset: number, whence: Whence = 0): Promise<number> {
    const target = expectSize('offset', offset);
    if (whence !== 0 && whence !== 1 && whence !== 2) {
      throw new InvalidArgumentError(
        'whence',
        whence,
        'one of 0 (from the start), 1 (from the current position), 2 (from the end)',
      );
    }
    this.checkSeek(target, whence);
    return this.exclusive('seek', () => this.core.seek(target, whence));
  }

  /** @internal */
  protected checkSeek(_offset: number, _whence: Whence): void {}

  /** The current position: bytes from the start (uncompressed bytes for compressed files). */
  tell(): Promise<number> {
    return this.exclusive('tell', async () => this.core.position);
  }

  /** Cuts (or extends) the file to `size` bytes, the current position by default; returns the size. */
  truncate(size?: number): Promise<number> {
    const length = size === undefined ? undefined : expectSize('size', size, 0);
    return this.exclusive('truncate', async () => {
      this.ensureWritable();
      return this.core.truncate(length);
    });
  }

  /**
   * Writes buffered data to the file. GZIP, BROTLI and ZSTD files also flush the compressor, so
   * what was written so far can be decompressed; BZ2 and LZMA ones hand it to the compressor.
   */
  flush(): Promise<void> {
    return this.exclusive('flush', async () => {
      if (this.parsed.writable) await this.core.flush();
    });
  }

  /**
   * Writes out what is buffered and closes the file; an `atomic` file is then fsynced and
   * renamed over the target. Waits for the operations called before it. A second call returns
   * the first call's promise.
   */
  close(): Promise<void> {
    this.closing ??= this.finish(true);
    return this.closing;
  }

  /**
   * Closes the file without writing out what is still buffered. An `atomic` file leaves the
   * target as it was and removes its temporary file.
   */
  abort(): Promise<void> {
    this.closing ??= this.finish(false);
    return this.closing;
  }

  private async finish(commit: boolean): Promise<void> {
    await this.tail;
    const sync = this.target !== undefined;
    try {
      if (commit) await this.core.close(sync);
      else await this.core.abort();
    } catch (error) {
      if (this.target) await this.target.discard();
      throw error;
    }
    if (!this.target) return;
    if (commit) await this.target.commit();
    else await this.target.discard();
  }

  /**
   * `await using` support. A plain file is closed. An `atomic` file that was not closed
   * explicitly is aborted, so an error thrown in the block leaves the old file intact: call
   * `close()` at the end of the block to commit.
   */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.closing) return this.closing.catch(() => {});
    return this.target ? this.abort() : this.close();
  }

  /** Iterates over the lines (each keeps its `\n`); several loops over one file share the lines. */
  [Symbol.asyncIterator](): AsyncIterator<TData> {
    const next = (): Promise<IteratorResult<TData>> => {
      if (this.busy === 0 && !this.closing && this.parsed.readable) {
        const line = this.core.lineSync();
        if (line) return Promise.resolve({ done: false, value: this.decode(line) });
      }
      return this.readline().then((line) =>
        line.length === 0 ? DONE : { done: false, value: line },
      );
    };
    return { next };
  }
}

/** A file opened in a binary mode (`b`): reads return `Buffer`s, writes take bytes. */
export class AsyncBinaryFile extends AsyncFile<Buffer> {
  protected decode(bytes: Buffer): Buffer {
    return bytes;
  }

  protected encode(data: Buffer | Uint8Array): {
    bytes: Uint8Array;
    owned: boolean;
    count: number;
  } {
    if (!(data instanceof Uint8Array)) {
      throw new InvalidArgumentError(
        'data',
        data,
        'a Buffer or Uint8Array (the file is open in binary mode)',
      );
    }
    return { bytes: data, owned: false, count: data.length };
  }

  /** Writes `data`; returns the number of bytes written. */
  override write(data: Buffer | Uint8Array): Promise<number> {
    return super.write(data as Buffer);
  }
}

/** A file opened in a text mode: reads return strings, writes take strings. */
export class AsyncTextFile extends AsyncFile<string> {
  /** The text encoding. */
  readonly encoding: TextEncoding;
  private readonly bufferEncoding: BufferEncoding;

  /** @internal */
  constructor(parts: FileParts, encoding: TextEncoding) {
    super(parts);
    this.encoding = encoding;
    this.bufferEncoding = encoding === 'utf-8' ? 'utf8' : encoding;
  }

  protected decode(bytes: Buffer): string {
    return bytes.toString(this.bufferEncoding);
  }

  protected encode(data: string): { bytes: Uint8Array; owned: boolean; count: number } {
    if (typeof data !== 'string') {
      throw new InvalidArgumentError(
        'data',
        data,
        'a string (the file is open in text mode; add "b" to the mode for bytes)',
      );
    }
    return { bytes: Buffer.from(data, this.bufferEncoding), owned: true, count: data.length };
  }

  protected override checkSeek(offset: number, whence: Whence): void {
    if (whence !== 0 && offset !== 0) {
      throw new UnsupportedOperationError(
        'seek',
        `a text file takes only seek(position), seek(0, 1) and seek(0, 2), not seek(${offset}, ${whence}): open it in binary mode to seek relative to the current position or the end`,
      );
    }
  }

  protected override readUnits(count: number): Promise<Buffer> {
    if (count < 0 || this.bufferEncoding !== 'utf8') return this.core.readBytes(count);
    return this.readUtf8(count, false);
  }

  protected override readLineUnits(limit: number): Promise<Buffer> {
    if (limit < 0 || this.bufferEncoding !== 'utf8') return this.core.readLine(limit);
    return this.readUtf8(limit, true);
  }

  /** Reads `count` UTF-8 characters (code points), stopping after a `\n` when `line`. */
  private async readUtf8(count: number, line: boolean): Promise<Buffer> {
    let scanned = 0;
    let characters = 0;
    for (;;) {
      const bytes = this.core.peek();
      let index = scanned;
      for (; index < bytes.length; index++) {
        const byte = bytes[index]!;
        if ((byte & 0xc0) !== 0x80) {
          if (characters === count) return this.core.take(index);
          characters++;
        }
        if (line && byte === 0x0a) return this.core.take(index + 1);
      }
      scanned = index;
      if (!(await this.core.fill())) return this.core.take(bytes.length);
    }
  }
}

function expectSize(argument: string, value: unknown, min = -Infinity): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(argument, value, min === 0 ? 'an integer >= 0' : 'an integer');
  }
  return value;
}
