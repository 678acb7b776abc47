import { Duplex } from 'node:stream';
import { CompressedDataError } from './errors/compressed-data-error';

/*
 * A streaming bzip2 decoder: one block at a time (at most 900 kB of output, its compressed bits
 * buffered until the whole block is there), concatenated streams read as one, block and stream
 * CRCs checked. Typed arrays are allocated once per decoder, not per block.
 */

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const END_MAGIC_HI = 0x177245;
const END_MAGIC_LO = 0x385090;
const MAX_GROUPS = 6;
const MAX_ALPHA = 258;
const MAX_CODE_LENGTH = 20;
const GROUP_SIZE = 50;
/** Codes up to this many bits are decoded with one table lookup; longer ones bit by bit. */
const TABLE_BITS = 10;

const CRC_TABLE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 24;
  for (let j = 0; j < 8; j++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  CRC_TABLE[i] = c;
}

/** Thrown inside a block decode when the buffered input ends before the block does. */
class NeedMoreInput extends Error {}
const NEED_MORE = new NeedMoreInput();

function corrupt(message: string): CompressedDataError {
  return new CompressedDataError('bz2', message);
}

/** The bzip2 decoder state machine over a growing input buffer. @internal */
export class Bzip2Decoder {
  private input: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  /** The next input byte to load into `bitBuffer`. */
  private bytePosition = 0;
  /** The low `bitCount` bits of `bitBuffer` are the next unread bits. */
  private bitBuffer = 0;
  private bitCount = 0;
  private blockSize = 0; // in bytes; 0 = expecting a stream header
  private streamCrc = 0;
  private sawStream = false;
  private tt = new Int32Array(0);
  private readonly lengths = Array.from({ length: MAX_GROUPS }, () => new Uint8Array(MAX_ALPHA));
  private readonly limits = Array.from(
    { length: MAX_GROUPS },
    () => new Int32Array(MAX_CODE_LENGTH + 2),
  );
  private readonly bases = Array.from(
    { length: MAX_GROUPS },
    () => new Int32Array(MAX_CODE_LENGTH + 2),
  );
  private readonly perms = Array.from({ length: MAX_GROUPS }, () => new Int32Array(MAX_ALPHA));
  private readonly minLengths = new Int32Array(MAX_GROUPS);
  /** Per group: the next TABLE_BITS bits -> (symbol << 5) | code length, 0 for longer codes. */
  private readonly tables = Array.from(
    { length: MAX_GROUPS },
    () => new Int32Array(1 << TABLE_BITS),
  );
  private readonly selectors = new Uint8Array(18_002);
  private readonly counts = new Int32Array(256);
  private readonly seqToUnseq = new Uint8Array(256);
  private readonly mtf = new Uint8Array(256);
  private output: Buffer<ArrayBufferLike> = Buffer.alloc(0);

  /** Adds compressed bytes. */
  feed(chunk: Buffer): void {
    // Kept aside and joined once per block, not copied on every chunk.
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
  }

  private pending: Buffer[] = [];
  private pendingLength = 0;

  private join(): void {
    if (this.pendingLength === 0) return;
    const rest = this.input.subarray(this.bytePosition);
    this.input = Buffer.concat(rest.length === 0 ? this.pending : [rest, ...this.pending]);
    this.bytePosition = 0;
    this.pending = [];
    this.pendingLength = 0;
  }

  /** Whether a whole block may be buffered (always true at the end of the input). */
  private enoughFor(final: boolean): boolean {
    if (final) return true;
    const available = this.input.length - this.bytePosition + this.pendingLength;
    const blockBytes = this.blockSize === 0 ? 900_000 : this.blockSize;
    return available >= blockBytes + (blockBytes >>> 5) + 4096;
  }

  /**
   * The next block's output, or null when the buffered input holds no whole block (at the end
   * of the input, `final`: when nothing is left).
   */
  next(final: boolean): Buffer | null {
    for (;;) {
      if (!this.enoughFor(final)) return null;
      this.join();
      const bytePosition = this.bytePosition;
      const bitBuffer = this.bitBuffer;
      const bitCount = this.bitCount;
      try {
        const result = this.step();
        if (result === false) return null;
        if (result !== true) return result;
      } catch (error) {
        if (error !== NEED_MORE) throw error;
        this.bytePosition = bytePosition;
        this.bitBuffer = bitBuffer;
        this.bitCount = bitCount;
        if (final)
          throw corrupt('the compressed data ends before the stream does (a truncated file)');
        return null;
      }
    }
  }

  /** At the end of the input: was everything a complete stream? */
  finish(): void {
    if (this.blockSize !== 0)
      throw corrupt('the compressed data ends before the stream does (a truncated file)');
    if (!this.sawStream) throw corrupt('no bzip2 stream in the file (not bzip2 data)');
  }

  /** Reads `count` bits (at most 24), most significant first. */
  private bits(count: number): number {
    while (this.bitCount < count) {
      if (this.bytePosition >= this.input.length) throw NEED_MORE;
      this.bitBuffer = ((this.bitBuffer << 8) | this.input[this.bytePosition++]!) >>> 0;
      this.bitCount += 8;
    }
    this.bitCount -= count;
    return (this.bitBuffer >>> this.bitCount) & ((1 << count) - 1);
  }

  /** Reads one bit. */
  private bit(): number {
    if (this.bitCount === 0) {
      if (this.bytePosition >= this.input.length) throw NEED_MORE;
      this.bitBuffer = this.input[this.bytePosition++]!;
      this.bitCount = 8;
    }
    this.bitCount--;
    return (this.bitBuffer >>> this.bitCount) & 1;
  }

  /** One unit of work: a stream header or end (true), a block (its output); false when nothing is left. */
  private step(): Buffer | boolean {
    if (this.blockSize === 0) {
      if (this.bitCount === 0 && this.bytePosition >= this.input.length) return false;
      const b = this.bits(8);
      const z = this.bits(8);
      const h = this.bits(8);
      const level = this.bits(8) - 0x30;
      if (b !== 0x42 || z !== 0x5a || h !== 0x68 || level < 1 || level > 9) {
        throw corrupt(
          this.sawStream
            ? 'garbage after the last bzip2 stream'
            : 'not bzip2 data (bad stream header)',
        );
      }
      this.blockSize = level * 100_000;
      this.streamCrc = 0;
      this.sawStream = true;
      if (this.tt.length < this.blockSize) this.tt = new Int32Array(this.blockSize);
      return true;
    }
    const magicHi = this.bits(24);
    const magicLo = this.bits(24);
    const crc = ((this.bits(16) << 16) | this.bits(16)) >>> 0;
    if (magicHi === END_MAGIC_HI && magicLo === END_MAGIC_LO) {
      if (crc !== this.streamCrc >>> 0) throw corrupt('stream CRC mismatch (corrupt data)');
      this.blockSize = 0;
      // Streams end on a byte boundary: drop the padding bits.
      this.bitCount -= this.bitCount & 7;
      return true;
    }
    if (magicHi !== BLOCK_MAGIC_HI || magicLo !== BLOCK_MAGIC_LO)
      throw corrupt('bad block header (corrupt data)');
    const data = this.block();
    let blockCrc = -1;
    for (let i = 0; i < data.length; i++)
      blockCrc = (blockCrc << 8) ^ CRC_TABLE[((blockCrc >>> 24) ^ data[i]!) & 0xff]!;
    blockCrc = ~blockCrc >>> 0;
    if (blockCrc !== crc) throw corrupt('block CRC mismatch (corrupt data)');
    this.streamCrc = (((this.streamCrc << 1) | (this.streamCrc >>> 31)) ^ blockCrc) >>> 0;
    return data;
  }

  private block(): Buffer {
    if (this.bit())
      throw corrupt('randomised blocks (written by bzip2 before 0.9.5) are not supported');
    const origin = this.bits(24);

    // Symbols in use.
    const used = this.bits(16);
    let inUse = 0;
    const seqToUnseq = this.seqToUnseq;
    for (let i = 0; i < 16; i++) {
      if (used & (0x8000 >>> i)) {
        const bits = this.bits(16);
        for (let j = 0; j < 16; j++) if (bits & (0x8000 >>> j)) seqToUnseq[inUse++] = i * 16 + j;
      }
    }
    if (inUse === 0) throw corrupt('a block uses no symbols (corrupt data)');
    const alphaSize = inUse + 2;

    // Huffman groups and selectors.
    const groups = this.bits(3);
    if (groups < 2 || groups > MAX_GROUPS) throw corrupt('bad Huffman group count (corrupt data)');
    const selectorCount = this.bits(15);
    if (selectorCount < 1) throw corrupt('bad selector count (corrupt data)');
    const order = [0, 1, 2, 3, 4, 5];
    const selectors = this.selectors;
    for (let i = 0; i < selectorCount; i++) {
      let j = 0;
      while (this.bit()) {
        j++;
        if (j >= groups) throw corrupt('bad selector (corrupt data)');
      }
      const value = order[j]!;
      for (let k = j; k > 0; k--) order[k] = order[k - 1]!;
      order[0] = value;
      if (i < selectors.length) selectors[i] = value;
    }
    const selectorsUsed = Math.min(selectorCount, selectors.length);

    for (let t = 0; t < groups; t++) {
      const length = this.lengths[t]!;
      let current = this.bits(5);
      for (let i = 0; i < alphaSize; i++) {
        for (;;) {
          if (current < 1 || current > MAX_CODE_LENGTH)
            throw corrupt('bad Huffman code length (corrupt data)');
          if (!this.bit()) break;
          current += this.bit() ? -1 : 1;
        }
        length[i] = current;
      }
      this.makeTable(t, alphaSize);
    }

    // Huffman + MTF + RUNA/RUNB into tt.
    const tt = this.tt;
    const counts = this.counts;
    counts.fill(0);
    const mtf = this.mtf;
    for (let i = 0; i < 256; i++) mtf[i] = i;
    const endOfBlock = inUse + 1;
    let count = 0;
    let groupIndex = 0;
    let groupLeft = 0;
    let limit = this.limits[0]!;
    let base = this.bases[0]!;
    let perm = this.perms[0]!;
    let table = this.tables[0]!;
    let minLength = 0;
    const input = this.input;
    let run = 0;
    let runWeight = 1;
    const max = this.blockSize;
    for (;;) {
      if (groupLeft === 0) {
        if (groupIndex >= selectorsUsed) throw corrupt('ran out of selectors (corrupt data)');
        const group = selectors[groupIndex++]!;
        limit = this.limits[group]!;
        base = this.bases[group]!;
        perm = this.perms[group]!;
        table = this.tables[group]!;
        minLength = this.minLengths[group]!;
        groupLeft = GROUP_SIZE;
      }
      groupLeft--;
      while (this.bitCount <= 24 && this.bytePosition < input.length) {
        this.bitBuffer = ((this.bitBuffer << 8) | input[this.bytePosition++]!) >>> 0;
        this.bitCount += 8;
      }
      let symbol: number;
      const entry =
        this.bitCount >= TABLE_BITS
          ? table[(this.bitBuffer >>> (this.bitCount - TABLE_BITS)) & ((1 << TABLE_BITS) - 1)]!
          : 0;
      if (entry !== 0) {
        this.bitCount -= entry & 31;
        symbol = entry >>> 5;
      } else {
        let length = minLength;
        let code = this.bits(length);
        while (length <= MAX_CODE_LENGTH && code > limit[length]!) {
          length++;
          code = (code << 1) | this.bit();
        }
        if (length > MAX_CODE_LENGTH) throw corrupt('bad Huffman code (corrupt data)');
        const index = code - base[length]!;
        if (index < 0 || index >= alphaSize) throw corrupt('bad Huffman code (corrupt data)');
        symbol = perm[index]!;
      }
      if (symbol <= 1) {
        run += (symbol + 1) * runWeight;
        runWeight <<= 1;
        if (run > max) throw corrupt('a run longer than the block (corrupt data)');
        continue;
      }
      if (run > 0) {
        if (count + run > max) throw corrupt('a block longer than its size (corrupt data)');
        const byte = seqToUnseq[mtf[0]!]!;
        counts[byte]! += run;
        tt.fill(byte, count, count + run);
        count += run;
        run = 0;
        runWeight = 1;
      }
      if (symbol === endOfBlock) break;
      if (count >= max) throw corrupt('a block longer than its size (corrupt data)');
      const position = symbol - 1;
      const value = mtf[position]!;
      mtf.copyWithin(1, 0, position);
      mtf[0] = value;
      const byte = seqToUnseq[value]!;
      counts[byte]!++;
      tt[count++] = byte;
    }
    if (origin >= count) throw corrupt('bad block origin (corrupt data)');

    // Inverse BWT.
    let sum = 0;
    for (let i = 0; i < 256; i++) {
      const c = counts[i]!;
      counts[i] = sum;
      sum += c;
    }
    for (let i = 0; i < count; i++) {
      const byte = tt[i]! & 0xff;
      tt[counts[byte]!++]! |= i << 8;
    }

    // Walk the BWT and undo the initial run-length encoding (4 equal bytes, then a count).
    let out = this.output;
    if (out.length < count * 2) out = this.output = Buffer.allocUnsafe(Math.max(count * 2, 1024));
    let written = 0;
    let position = tt[origin]! >>> 8;
    let previous = -1;
    let same = 0;
    for (let i = 0; i < count; i++) {
      const entry = tt[position]!;
      const byte = entry & 0xff;
      position = entry >>> 8;
      if (same === 4) {
        if (written + byte > out.length) out = this.grow(out, written, byte);
        out.fill(previous, written, written + byte);
        written += byte;
        same = 0;
        previous = -1;
        continue;
      }
      if (byte === previous) same++;
      else {
        previous = byte;
        same = 1;
      }
      if (written >= out.length) out = this.grow(out, written, 1);
      out[written++] = byte;
    }
    return Buffer.from(out.subarray(0, written));
  }

  private grow(
    out: Buffer<ArrayBufferLike>,
    written: number,
    more: number,
  ): Buffer<ArrayBufferLike> {
    const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, written + more));
    out.copy(bigger, 0, 0, written);
    this.output = bigger;
    return bigger;
  }

  private makeTable(group: number, alphaSize: number): void {
    const length = this.lengths[group]!;
    const limit = this.limits[group]!;
    const base = this.bases[group]!;
    const perm = this.perms[group]!;
    let minLength = MAX_CODE_LENGTH;
    let maxLength = 0;
    for (let i = 0; i < alphaSize; i++) {
      const l = length[i]!;
      if (l > maxLength) maxLength = l;
      if (l < minLength) minLength = l;
    }
    let p = 0;
    for (let l = minLength; l <= maxLength; l++)
      for (let s = 0; s < alphaSize; s++) if (length[s] === l) perm[p++] = s;
    const sizes = new Int32Array(MAX_CODE_LENGTH + 2);
    for (let s = 0; s < alphaSize; s++) sizes[length[s]!]!++;
    // Canonical Huffman: limit[l] = the largest code of length l; base[l] turns a code into a perm index.
    let code = 0;
    let index = 0;
    limit.fill(-1);
    for (let l = minLength; l <= maxLength; l++) {
      const n = sizes[l]!;
      base[l] = code - index;
      code += n;
      index += n;
      limit[l] = code - 1;
      code <<= 1;
    }
    for (let l = maxLength + 1; l <= MAX_CODE_LENGTH + 1; l++) {
      // Past the longest code every pattern is invalid: stop there with an out-of-range index.
      limit[l] = 0x7fffffff;
      base[l] = -0x40000000;
    }
    this.minLengths[group] = minLength;
    // The lookup table: each code of at most TABLE_BITS bits fills the entries it prefixes.
    const lookup = this.tables[group]!;
    lookup.fill(0);
    let next = 0;
    for (let l = minLength; l <= maxLength; l++) {
      for (let symbol = 0; symbol < alphaSize; symbol++) {
        if (length[symbol] !== l) continue;
        if (l <= TABLE_BITS) {
          const shift = TABLE_BITS - l;
          lookup.fill((symbol << 5) | l, next << shift, (next + 1) << shift);
        }
        next++;
      }
      next <<= 1;
    }
  }
}

/**
 * A streaming bzip2 decompressor. A Duplex rather than a Transform: one small input chunk can
 * hold many blocks (highly compressible data), so blocks are decoded only while the reader wants
 * more, and input is asked for only when no whole block is buffered.
 * @internal
 */
export class Bzip2Decompressor extends Duplex {
  private readonly decoder = new Bzip2Decoder();
  private wanted = false;
  private pumping = false;
  private ending = false;
  private finished = false;
  private writeCallback: ((error?: Error | null) => void) | undefined;
  private finalCallback: ((error?: Error | null) => void) | undefined;

  constructor(highWaterMark: number) {
    super({ readableHighWaterMark: highWaterMark, writableHighWaterMark: highWaterMark });
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.decoder.feed(chunk);
    this.writeCallback = callback;
    this.pump();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.ending = true;
    this.finalCallback = callback;
    this.pump();
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  private pump(): void {
    if (this.pumping || this.finished) return;
    this.pumping = true;
    try {
      for (;;) {
        if (!this.wanted) return;
        const data = this.decoder.next(this.ending);
        if (data === null) break;
        // Pushed in pieces of at most highWaterMark bytes (a block can be 45 MB of output).
        for (let offset = 0; offset < data.length; offset += this.readableHighWaterMark) {
          this.wanted = this.push(data.subarray(offset, offset + this.readableHighWaterMark));
        }
      }
      if (this.ending) {
        this.finished = true;
        this.decoder.finish();
        this.push(null);
        this.finalCallback?.();
      } else {
        const callback = this.writeCallback;
        this.writeCallback = undefined;
        callback?.();
      }
    } catch (error) {
      this.finished = true;
      const callback = this.finalCallback ?? this.writeCallback;
      this.writeCallback = this.finalCallback = undefined;
      if (callback) callback(error as Error);
      else this.destroy(error as Error);
    } finally {
      this.pumping = false;
    }
  }
}
