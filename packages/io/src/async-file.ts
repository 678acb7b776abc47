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
      return this.readData(count);
    });
  }

  /** @internal Reads `count` units (bytes; characters for text files). */
  protected async readData(count: number): Promise<TData> {
    return this.decode(await this.core.readBytes(count));
  }

  /** @internal Reads one line of at most `limit` units (no limit when negative). */
  protected async readLineData(limit: number): Promise<TData> {
    return this.decode(await this.core.readLine(limit));
  }

  /** @internal A whole line that is already buffered, or undefined. */
  protected lineNow(): TData | undefined {
    const line = this.core.lineSync();
    return line ? this.decode(line) : undefined;
  }

  /** @internal The position `tell()` reports. */
  protected currentPosition(): number {
    return this.core.position;
  }

  /** @internal Called before writes, seeks and truncates: text files give back read-ahead. */
  protected async settle(): Promise<void> {}

  /**
   * Reads through the next `\n` (kept in the result), or at most `limit` characters (text) or
   * bytes (binary) when `limit` is not negative. Returns an empty value at the end of the file.
   */
  readline(limit = -1): Promise<TData> {
    const count = expectSize('limit', limit);
    if (count < 0 && this.busy === 0 && !this.closing && this.parsed.readable) {
      const line = this.lineNow();
      if (line !== undefined) return Promise.resolve(line);
    }
    return this.exclusive('readline', async () => {
      this.ensureReadable();
      return this.readLineData(count);
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
        const value = await this.readLineData(-1);
        if (value.length === 0) return lines;
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
      await this.settle();
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
    return this.exclusive('seek', () => this.seekData(target, whence));
  }

  /** @internal */
  protected checkSeek(_offset: number, _whence: Whence): void {}

  /** @internal */
  protected seekData(offset: number, whence: Whence): Promise<number> {
    return this.core.seek(offset, whence);
  }

  /** The current position: bytes from the start (uncompressed bytes for compressed files). */
  tell(): Promise<number> {
    return this.exclusive('tell', async () => this.currentPosition());
  }

  /** Cuts (or extends) the file to `size` bytes, the current position by default; returns the size. */
  truncate(size?: number): Promise<number> {
    const length = size === undefined ? undefined : expectSize('size', size, 0);
    return this.exclusive('truncate', async () => {
      this.ensureWritable();
      await this.settle();
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
        const value = this.lineNow();
        if (value !== undefined) return Promise.resolve({ done: false, value });
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
    return { bytes: Buffer.from(data, this.bufferEncoding), owned: true, count: codePoints(data) };
  }

  protected override checkSeek(offset: number, whence: Whence): void {
    if (whence !== 0 && offset !== 0) {
      throw new UnsupportedOperationError(
        'seek',
        `a text file takes only seek(position), seek(0, 1) and seek(0, 2), not seek(${offset}, ${whence}): open it in binary mode to seek relative to the current position or the end`,
      );
    }
  }

  // Text is decoded a chunk at a time (whole characters only) and lines are cut from the
  // string: much cheaper than decoding each line's bytes. `text` holds what was decoded and not
  // returned yet; the core's position is just past it.
  private text = '';
  private textIndex = 0;

  /** Decodes the next buffered (or read) bytes onto `text`; false at the end of the file. */
  private async decodeMore(): Promise<boolean> {
    for (;;) {
      let bytes = this.core.peek();
      if (bytes.length === 0 || completeLength(bytes, this.bufferEncoding) === 0) {
        const more = await this.core.fill();
        bytes = this.core.peek();
        if (!more) {
          if (bytes.length === 0) return false;
          // Incomplete bytes at the end of the file decode to U+FFFD.
          this.appendText(this.core.take(bytes.length).toString(this.bufferEncoding));
          return true;
        }
      }
      const complete = completeLength(bytes, this.bufferEncoding);
      if (complete === 0) continue;
      this.appendText(this.core.take(complete).toString(this.bufferEncoding));
      return true;
    }
  }

  private appendText(decoded: string): void {
    this.text =
      this.textIndex < this.text.length ? this.text.slice(this.textIndex) + decoded : decoded;
    this.textIndex = 0;
  }

  private takeText(end: number): string {
    const out = this.text.slice(this.textIndex, end);
    this.textIndex = end;
    if (this.textIndex >= this.text.length) {
      this.text = '';
      this.textIndex = 0;
    }
    return out;
  }

  protected override lineNow(): string | undefined {
    const index = this.text.indexOf('\n', this.textIndex);
    return index < 0 ? undefined : this.takeText(index + 1);
  }

  protected override async readLineData(limit: number): Promise<string> {
    if (limit >= 0) return this.readCharacters(limit, true);
    let from = this.textIndex;
    for (;;) {
      const index = this.text.indexOf('\n', from);
      if (index >= 0) return this.takeText(index + 1);
      from = this.text.length - this.textIndex;
      if (!(await this.decodeMore())) return this.takeText(this.text.length);
      from += this.textIndex;
    }
  }

  protected override async readData(count: number): Promise<string> {
    if (count >= 0) return this.readCharacters(count, false);
    const rest = this.takeText(this.text.length);
    const bytes = await this.core.readBytes(-1);
    return rest + bytes.toString(this.bufferEncoding);
  }

  /** Reads `count` characters (code points), stopping after a `\n` when `line`. */
  private async readCharacters(count: number, line: boolean): Promise<string> {
    let characters = 0;
    let index = this.textIndex;
    for (;;) {
      const text = this.text;
      while (index < text.length) {
        if (characters === count) return this.takeText(index);
        const code = text.charCodeAt(index);
        index += code >= 0xd800 && code <= 0xdbff && index + 1 < text.length ? 2 : 1;
        characters++;
        if (line && code === 0x0a) return this.takeText(index);
      }
      if (characters === count) return this.takeText(index);
      const consumed = index - this.textIndex;
      if (!(await this.decodeMore())) return this.takeText(this.text.length);
      index = this.textIndex + consumed;
    }
  }

  protected override currentPosition(): number {
    if (this.textIndex >= this.text.length) return this.core.position;
    return (
      this.core.position - Buffer.byteLength(this.text.slice(this.textIndex), this.bufferEncoding)
    );
  }

  private dropText(): void {
    this.text = '';
    this.textIndex = 0;
  }

  protected override async settle(): Promise<void> {
    if (this.textIndex >= this.text.length) return;
    const position = this.currentPosition();
    this.dropText();
    await this.core.seek(position, 0);
  }

  protected override async seekData(offset: number, whence: Whence): Promise<number> {
    const target = whence === 1 ? this.currentPosition() : offset;
    this.dropText();
    return whence === 2 ? this.core.seek(offset, 2) : this.core.seek(target, 0);
  }
}

/** The number of characters (code points) in `text`, as Python's `len()` counts them. */
function codePoints(text: string): number {
  if (!/[\ud800-\udbff]/.test(text)) return text.length;
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** How many leading bytes of `bytes` are whole characters (UTF-8 may end mid-character). */
function completeLength(bytes: Buffer, encoding: BufferEncoding): number {
  if (encoding !== 'utf8') return bytes.length;
  const end = bytes.length;
  // Look back over at most 3 bytes for the lead byte of a character that is cut off.
  for (let back = 1; back <= 3 && back <= end; back++) {
    const byte = bytes[end - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? end - back : end;
  }
  return end;
}

function expectSize(argument: string, value: unknown, min = -Infinity): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(argument, value, min === 0 ? 'an integer >= 0' : 'an integer');
  }
  return value;
}
