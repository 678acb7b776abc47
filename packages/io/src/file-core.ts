import type { FileHandle } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { pipeline, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InvalidArgumentError } from '@aiomisc/core';
import { CHUNK_SIZE, createDecompressor, syncFlush, type Compression } from './compression';
import { UnsupportedOperationError } from './errors/unsupported-operation-error';

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;

/** `seek()`'s reference point, as in Python: 0 start, 1 current position, 2 end. */
export type Whence = 0 | 1 | 2;

/**
 * The byte layer under every file object: a read buffer over some source of bytes, and the
 * operations each kind of file (plain, compressed reader, compressed writer) implements.
 * The file object calls it one operation at a time.
 * @internal
 */
export abstract class FileCore {
  /** Logical position of the next byte read or written (uncompressed bytes for compressed files). */
  position = 0;
  /** Buffered bytes; the unread ones start at `cursor` and sit at `position` in the file. */
  protected buffer: Buffer = EMPTY;
  protected cursor = 0;

  constructor(
    protected readonly handle: FileHandle,
    readonly seekable: boolean,
  ) {}

  /** The next bytes after the buffered ones, at least one unless at the end (then empty). */
  protected abstract nextChunk(wanted: number): Promise<Buffer>;

  /** Called before any read: a plain file writes out its pending writes first. */
  protected beforeRead(): Promise<void> | void {}

  /** Whether a read can start without waiting (no pending writes to write out first). */
  protected readReady(): boolean {
    return true;
  }

  /** The unread buffered bytes (a view; valid until the next call). */
  peek(): Buffer {
    return this.cursor === 0 ? this.buffer : this.buffer.subarray(this.cursor);
  }

  /** Consumes `count` buffered bytes and returns them. */
  take(count: number): Buffer {
    const out = this.buffer.subarray(this.cursor, this.cursor + count);
    this.cursor += out.length;
    this.position += out.length;
    return out;
  }

  /** Appends the next chunk to the unread bytes; false at the end of the file. */
  async fill(): Promise<boolean> {
    await this.beforeRead();
    const chunk = await this.nextChunk(CHUNK_SIZE);
    if (chunk.length === 0) return false;
    if (this.cursor >= this.buffer.length) this.buffer = chunk;
    else this.buffer = Buffer.concat([this.buffer.subarray(this.cursor), chunk]);
    this.cursor = 0;
    return true;
  }

  /** A whole buffered line (through `\n`), or undefined when reading it would have to wait. */
  lineSync(): Buffer | undefined {
    if (!this.readReady()) return undefined;
    const index = this.buffer.indexOf(NEWLINE, this.cursor);
    return index < 0 ? undefined : this.take(index - this.cursor + 1);
  }

  /** Reads through the next `\n` (or `limit` bytes, or to the end). */
  async readLine(limit: number): Promise<Buffer> {
    await this.beforeRead();
    let scanned = 0;
    for (;;) {
      const index = this.buffer.indexOf(NEWLINE, this.cursor + scanned);
      const available = this.buffer.length - this.cursor;
      if (index >= 0 && (limit < 0 || index - this.cursor < limit))
        return this.take(index - this.cursor + 1);
      if (limit >= 0 && available >= limit) return this.take(limit);
      scanned = available;
      if (!(await this.fill())) return this.take(available);
    }
  }

  /** Reads `size` bytes (fewer at the end of the file); a negative size reads to the end. */
  async readBytes(size: number): Promise<Buffer> {
    await this.beforeRead();
    const all = size < 0;
    let remaining = all ? Infinity : size;
    const parts: Buffer[] = [];
    let total = 0;
    const buffered = this.take(Math.min(remaining, this.buffer.length - this.cursor));
    if (buffered.length > 0) parts.push(buffered);
    total += buffered.length;
    remaining -= buffered.length;
    while (remaining > 0) {
      const chunk = await this.nextChunk(all ? 1024 * 1024 : Math.max(remaining, CHUNK_SIZE));
      if (chunk.length === 0) break;
      if (chunk.length <= remaining) {
        parts.push(chunk);
        this.position += chunk.length;
        total += chunk.length;
        remaining -= chunk.length;
      } else {
        this.buffer = chunk;
        this.cursor = 0;
        parts.push(this.take(remaining));
        total += remaining;
        remaining = 0;
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  }

  /** Drops the read buffer, or keeps it when `target` lies inside it; sets the position. */
  protected moveTo(target: number): void {
    const bufferStart = this.position - this.cursor;
    if (target >= bufferStart && target <= bufferStart + this.buffer.length) {
      this.cursor = target - bufferStart;
    } else {
      this.buffer = EMPTY;
      this.cursor = 0;
    }
    this.position = target;
  }

  protected dropReadBuffer(): void {
    this.buffer = EMPTY;
    this.cursor = 0;
  }

  abstract write(data: Uint8Array, owned: boolean): Promise<void>;
  abstract seek(offset: number, whence: Whence): Promise<number>;
  abstract truncate(size: number | undefined): Promise<number>;
  abstract flush(): Promise<void>;
  /** Writes everything out and closes the handle (fsyncs it first when `sync`). */
  abstract close(sync: boolean): Promise<void>;
  /** Closes the handle without writing anything pending. */
  abstract abort(): Promise<void>;
}

function negativePosition(offset: number, target: number): InvalidArgumentError {
  return new InvalidArgumentError(
    'offset',
    offset,
    `an offset that leads to a position >= 0 (it leads to ${target})`,
  );
}

/** Writes all of `data` at `position` (null: at the current offset, as appends do). @internal */
export async function writeFully(
  handle: FileHandle,
  data: Uint8Array,
  position: number | null,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(
      data,
      done,
      data.length - done,
      position === null ? null : position + done,
    );
    done += bytesWritten;
  }
}

/** Writes `parts` (`length` bytes in all) at the current offset, in order. @internal */
export async function writevFully(
  handle: FileHandle,
  parts: Buffer[],
  length: number,
): Promise<void> {
  const { bytesWritten } = await handle.writev(parts);
  if (bytesWritten < length) {
    await writeFully(handle, Buffer.concat(parts, length).subarray(bytesWritten), null);
  }
}

/** The file's bytes from the start, read with positional reads (the handle stays open). */
async function* readChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(CHUNK_SIZE);
    const { bytesRead } = await handle.read(chunk, 0, CHUNK_SIZE, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead === CHUNK_SIZE ? chunk : chunk.subarray(0, bytesRead);
  }
}

/** An uncompressed file: positional reads and writes, Python's BufferedRandom. @internal */
export class PlainCore extends FileCore {
  private writeParts: Buffer[] = [];
  private writeLength = 0;
  private writeStart = 0;

  constructor(
    handle: FileHandle,
    private size: number,
    private readonly append: boolean,
  ) {
    super(handle, true);
    if (append) this.position = size;
  }

  protected override readReady(): boolean {
    return this.writeLength === 0;
  }

  protected override async beforeRead(): Promise<void> {
    if (this.writeLength > 0) await this.flushWrites();
  }

  protected async nextChunk(wanted: number): Promise<Buffer> {
    const at = this.position + (this.buffer.length - this.cursor);
    const chunk = Buffer.allocUnsafe(wanted);
    const { bytesRead } = await this.handle.read(chunk, 0, wanted, at);
    return bytesRead === wanted ? chunk : chunk.subarray(0, bytesRead);
  }

  private async flushWrites(): Promise<void> {
    if (this.writeLength === 0) return;
    const data =
      this.writeParts.length === 1
        ? this.writeParts[0]!
        : Buffer.concat(this.writeParts, this.writeLength);
    const start = this.writeStart;
    this.writeParts = [];
    this.writeLength = 0;
    await writeFully(this.handle, data, this.append ? null : start);
  }

  async write(data: Uint8Array, owned: boolean): Promise<void> {
    if (data.length === 0) return;
    if (this.append && this.writeLength === 0) this.position = this.size;
    this.dropReadBuffer();
    if (this.writeLength > 0 && this.writeStart + this.writeLength !== this.position)
      await this.flushWrites();
    if (this.writeLength === 0) this.writeStart = this.position;
    const start = this.position;
    this.position += data.length;
    this.size = Math.max(this.size, this.position);
    if (this.writeLength === 0 && data.length >= CHUNK_SIZE) {
      // Large writes go straight to the file; the caller's buffer is only read until this resolves.
      await writeFully(this.handle, data, this.append ? null : start);
      return;
    }
    this.writeParts.push(
      owned ? Buffer.from(data.buffer, data.byteOffset, data.length) : Buffer.from(data),
    );
    this.writeLength += data.length;
    if (this.writeLength >= CHUNK_SIZE) await this.flushWrites();
  }

  async seek(offset: number, whence: Whence): Promise<number> {
    await this.flushWrites();
    let base = 0;
    if (whence === 1) base = this.position;
    else if (whence === 2) base = this.size = (await this.handle.stat()).size;
    const target = base + offset;
    if (target < 0) throw negativePosition(offset, target);
    this.moveTo(target);
    return target;
  }

  async truncate(size: number | undefined): Promise<number> {
    await this.flushWrites();
    const length = size ?? this.position;
    await this.handle.truncate(length);
    this.size = length;
    this.dropReadBuffer();
    return length;
  }

  async flush(): Promise<void> {
    await this.flushWrites();
  }

  async close(sync: boolean): Promise<void> {
    try {
      await this.flushWrites();
      if (sync) await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  async abort(): Promise<void> {
    this.writeParts = [];
    this.writeLength = 0;
    await this.handle.close();
  }
}

/**
 * A compressed file open for reading: a decompressor over the file. Seeking forwards reads
 * and discards; seeking backwards starts again from the beginning (as Python's gzip does).
 * @internal
 */
export class CompressedReadCore extends FileCore {
  private source: Readable | undefined;
  private decoder: Duplex | undefined;
  private chunks: AsyncIterator<Buffer> | undefined;
  private length: number | undefined;

  constructor(
    handle: FileHandle,
    private readonly compression: Exclude<Compression, 'none'>,
  ) {
    super(handle, true);
  }

  protected async nextChunk(): Promise<Buffer> {
    if (!this.chunks) {
      this.source = Readable.from(readChunks(this.handle), {
        objectMode: false,
        highWaterMark: CHUNK_SIZE,
      });
      this.decoder = await createDecompressor(this.compression);
      // Errors reach the reader through the iterator; the callback only keeps them handled.
      pipeline(this.source, this.decoder, () => {});
      this.chunks = (this.decoder as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    }
    const next = await this.chunks.next();
    if (next.done) return EMPTY;
    return next.value;
  }

  private stopDecoding(): void {
    this.decoder?.destroy();
    this.source?.destroy();
    this.chunks = undefined;
    this.decoder = undefined;
    this.source = undefined;
  }

  private async skip(count: number): Promise<void> {
    let remaining = count;
    while (remaining > 0) {
      const available = this.buffer.length - this.cursor;
      if (available === 0 && !(await this.fill())) return;
      remaining -= this.take(Math.min(remaining, this.buffer.length - this.cursor)).length;
    }
  }

  async seek(offset: number, whence: Whence): Promise<number> {
    let base = 0;
    if (whence === 1) base = this.position;
    else if (whence === 2) {
      if (this.length === undefined) {
        await this.skip(Infinity);
        this.length = this.position;
      }
      base = this.length;
    }
    const target = base + offset;
    if (target < 0) throw negativePosition(offset, target);
    const bufferStart = this.position - this.cursor;
    if (target >= bufferStart && target <= bufferStart + this.buffer.length) {
      this.moveTo(target);
    } else if (target < this.position) {
      this.stopDecoding();
      this.dropReadBuffer();
      this.position = 0;
      await this.skip(target);
    } else {
      await this.skip(target - this.position);
    }
    return this.position;
  }

  write(): Promise<void> {
    return Promise.reject(
      new UnsupportedOperationError('write', 'the file is not open for writing'),
    );
  }

  truncate(): Promise<number> {
    return Promise.reject(
      new UnsupportedOperationError('truncate', 'a compressed file cannot be truncated'),
    );
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.stopDecoding();
    await this.handle.close();
  }

  async abort(): Promise<void> {
    await this.close();
  }
}

/** A compressed file open for writing (`w`, `x` or `a`: a new stream after the old). @internal */
export class CompressedWriteCore extends FileCore {
  private parts: Buffer[] = [];
  private partsLength = 0;
  private writing: Promise<void> = Promise.resolve();
  private pendingOutput = 0;
  private paused = false;
  private failure: Error | undefined;

  constructor(
    handle: FileHandle,
    private readonly compression: Exclude<Compression, 'none'>,
    private readonly compressor: Duplex,
  ) {
    super(handle, false);
    compressor.on('data', (chunk: Buffer) => this.output(chunk));
    compressor.on('error', (error: Error) => {
      this.failure ??= error;
    });
  }

  /** Compressed output not handed to the file yet: written in batches of at least 256 KiB. */
  private outputParts: Buffer[] = [];
  private outputLength = 0;

  private output(chunk: Buffer): void {
    this.outputParts.push(chunk);
    this.outputLength += chunk.length;
    this.pendingOutput += chunk.length;
    if (this.outputLength >= 4 * CHUNK_SIZE) this.writeOutput();
    if (!this.paused && this.pendingOutput >= 16 * CHUNK_SIZE) {
      this.paused = true;
      this.compressor.pause();
    }
  }

  /** Hands the batched compressed output to the file, one writev after the other. */
  private writeOutput(): void {
    if (this.outputLength === 0) return;
    const parts = this.outputParts;
    const length = this.outputLength;
    this.outputParts = [];
    this.outputLength = 0;
    this.writing = this.writing
      .then(() => (this.failure ? undefined : writevFully(this.handle, parts, length)))
      .catch((error: unknown) => {
        this.failure ??= error as Error;
        this.compressor.destroy(this.failure);
      })
      .finally(() => {
        this.pendingOutput -= length;
        if (this.paused && this.pendingOutput < 8 * CHUNK_SIZE) {
          this.paused = false;
          this.compressor.resume();
        }
      });
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  protected nextChunk(): Promise<Buffer> {
    return Promise.reject(
      new UnsupportedOperationError('read', 'the file is not open for reading'),
    );
  }

  private async push(chunk: Buffer): Promise<void> {
    this.check();
    if (!this.compressor.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.compressor.off('drain', done);
          this.compressor.off('close', done);
          this.compressor.off('error', done);
          resolve();
        };
        this.compressor.on('drain', done);
        this.compressor.on('close', done);
        this.compressor.on('error', done);
      });
    }
    this.check();
  }

  private async pushParts(): Promise<void> {
    if (this.partsLength === 0) return;
    const data =
      this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength);
    this.parts = [];
    this.partsLength = 0;
    await this.push(data);
  }

  async write(data: Uint8Array, owned: boolean): Promise<void> {
    this.check();
    if (data.length === 0) return;
    this.position += data.length;
    this.parts.push(
      owned ? Buffer.from(data.buffer, data.byteOffset, data.length) : Buffer.from(data),
    );
    this.partsLength += data.length;
    if (this.partsLength >= CHUNK_SIZE) await this.pushParts();
  }

  async seek(offset: number, whence: Whence): Promise<number> {
    if (whence === 2) {
      throw new UnsupportedOperationError(
        'seek',
        'seek from the end is not supported while writing a compressed file',
      );
    }
    const target = whence === 1 ? this.position + offset : offset;
    if (target < this.position) {
      throw new UnsupportedOperationError(
        'seek',
        `negative seek in write mode: a compressed file is written forwards only (at ${this.position}, asked for ${target})`,
      );
    }
    // As Python's gzip: seeking forwards while writing writes zeros.
    let remaining = target - this.position;
    while (remaining > 0) {
      const count = Math.min(remaining, CHUNK_SIZE);
      await this.write(Buffer.alloc(count), true);
      remaining -= count;
    }
    return this.position;
  }

  truncate(): Promise<number> {
    return Promise.reject(
      new UnsupportedOperationError('truncate', 'a compressed file cannot be truncated'),
    );
  }

  async flush(): Promise<void> {
    await this.pushParts();
    await syncFlush(this.compressor, this.compression);
    for (;;) {
      this.writeOutput();
      await this.writing;
      this.check();
      if (this.pendingOutput === 0 && this.compressor.readableLength === 0) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async close(sync: boolean): Promise<void> {
    try {
      await this.pushParts();
      this.compressor.end();
      await finished(this.compressor);
      this.writeOutput();
      await this.writing;
      this.check();
      if (sync) await this.handle.sync();
    } finally {
      this.compressor.destroy();
      await this.handle.close();
    }
  }

  async abort(): Promise<void> {
    this.failure ??= new UnsupportedOperationError('write', 'the file was aborted');
    this.compressor.destroy();
    await this.writing;
    await this.handle.close();
  }
}
