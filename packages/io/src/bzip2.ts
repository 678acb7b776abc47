import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';
import type { Duplex } from 'node:stream';
import { Bzip2Decompressor } from './bunzip2';

/*
 * bzip2 without a compiler at install:
 * - compression: libbzip2 1.0.8 compiled to WebAssembly (bzip2-wasm). Its only entry points are
 *   whole-buffer calls, so the stream is cut into blocks of `level` x 100 kB and each block is
 *   written as a complete bzip2 stream. bzip2 readers (the `bzip2` tool, Python's bz2,
 *   libbzip2's own decompressor) read such concatenated streams as one file, memory stays at one
 *   block, and the size grows by about 40 bytes per block.
 * - decompression: this package's own streaming decoder (bunzip2.ts), one block at a time.
 */

/** The slice of the WebAssembly API used here (the project's lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Bzip2Exports {
  memory: WasmMemory;
  malloc(size: number): number;
  free(pointer: number): void;
  BZ2_bzBuffToBuffCompress(
    dest: number,
    destLength: number,
    source: number,
    sourceLength: number,
    blockSize100k: number,
    verbosity: number,
    workFactor: number,
  ): number;
  __wasm_call_ctors?: () => void;
  emscripten_stack_init?: () => void;
}

let wasm: Bzip2Exports | undefined;

const requireHere = createRequire(import.meta.url);

function loadWasm(): Bzip2Exports {
  if (wasm) return wasm;
  const bytes = readFileSync(requireHere.resolve('bzip2-wasm/bzip2-1.0.8/bzip2.wasm'));
  const state: { memory?: WasmMemory } = {};
  const imports = {
    env: {
      exit(code: number): never {
        throw new RangeError(`libbzip2 called exit(${code})`);
      },
      emscripten_memcpy_big(dest: number, source: number, count: number): void {
        const heap = new Uint8Array(state.memory!.buffer);
        heap.copyWithin(dest, source, source + count);
      },
      emscripten_resize_heap(requested: number): number {
        const current = state.memory!.buffer.byteLength;
        const wanted = Math.max(requested >>> 0, Math.min(current * 2, current + 64 * 1024 * 1024));
        if (wanted > 2 ** 31) return 0;
        try {
          state.memory!.grow(Math.ceil((wanted - current) / 65536));
          return 1;
        } catch {
          return 0;
        }
      },
    },
    wasi_snapshot_preview1: {
      fd_close: () => 0,
      fd_write: () => 0,
      fd_seek: () => 0,
    },
  };
  const instance = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(bytes), imports);
  const exports = instance.exports as unknown as Bzip2Exports;
  state.memory = exports.memory;
  exports.emscripten_stack_init?.();
  exports.__wasm_call_ctors?.();
  wasm = exports;
  return exports;
}

const BZ_ERRORS: Record<number, string> = {
  [-2]: 'BZ_PARAM_ERROR',
  [-3]: 'BZ_MEM_ERROR',
  [-8]: 'BZ_OUTBUFF_FULL',
};

/** Compresses one whole buffer to one complete bzip2 stream. @internal */
export function bzip2Block(input: Uint8Array, level: number): Buffer {
  const api = loadWasm();
  const capacity = input.length + Math.ceil(input.length / 100) + 600;
  const source = api.malloc(input.length);
  const dest = api.malloc(capacity);
  const lengthPointer = api.malloc(4);
  try {
    if (!source || !dest || !lengthPointer)
      throw new RangeError('bzip2: out of WebAssembly memory');
    new Uint8Array(api.memory.buffer).set(input, source);
    new DataView(api.memory.buffer).setUint32(lengthPointer, capacity, true);
    const status = api.BZ2_bzBuffToBuffCompress(
      dest,
      lengthPointer,
      source,
      input.length,
      level,
      0,
      0,
    );
    if (status !== 0)
      throw new RangeError(`bzip2 compression failed: ${BZ_ERRORS[status] ?? status}`);
    const length = new DataView(api.memory.buffer).getUint32(lengthPointer, true);
    return Buffer.from(new Uint8Array(api.memory.buffer, dest, length));
  } finally {
    api.free(source);
    api.free(dest);
    api.free(lengthPointer);
  }
}

/** A streaming bzip2 compressor: `level` x 100 kB blocks, each one complete stream. @internal */
export class Bzip2Compressor extends Transform {
  private readonly blockSize: number;
  private parts: Buffer[] = [];
  private length = 0;

  constructor(
    private readonly level: number,
    highWaterMark: number,
  ) {
    super({ highWaterMark });
    this.blockSize = level * 100_000;
    loadWasm();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(this.blockSize - this.length, chunk.length - offset);
        this.parts.push(chunk.subarray(offset, offset + take));
        this.length += take;
        offset += take;
        if (this.length === this.blockSize) this.emitBlock();
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // An empty file is still one (empty) bzip2 stream, as `bzip2 < /dev/null` writes.
      if (this.length > 0 || !this.wroteBlock) this.emitBlock();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private wroteBlock = false;

  private emitBlock(): void {
    const block = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    this.wroteBlock = true;
    this.push(bzip2Block(block, this.level));
  }
}

/** Both directions, for the compression table. @internal */
export function createBzip2Stream(
  direction: 'compress' | 'decompress',
  level: number,
  highWaterMark: number,
): Duplex {
  return direction === 'compress'
    ? new Bzip2Compressor(level, highWaterMark)
    : new Bzip2Decompressor(highWaterMark);
}
