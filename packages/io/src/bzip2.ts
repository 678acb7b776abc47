import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
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

/*
 * The compressor runs in one worker thread shared by every bzip2 file (a 900 kB block takes
 * 0.1-0.5 s of CPU, which must not stop the event loop). The worker's code is a plain script
 * (eval), so it works the same from the ESM and CJS builds and from the sources under tests.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
let memory;
const imports = {
  env: {
    exit(code) { throw new RangeError('libbzip2 called exit(' + code + ')'); },
    emscripten_memcpy_big(dest, source, count) {
      new Uint8Array(memory.buffer).copyWithin(dest, source, source + count);
    },
    emscripten_resize_heap(requested) {
      const current = memory.buffer.byteLength;
      const wanted = Math.max(requested >>> 0, Math.min(current * 2, current + 64 * 1024 * 1024));
      if (wanted > 2 ** 31) return 0;
      try { memory.grow(Math.ceil((wanted - current) / 65536)); return 1; } catch { return 0; }
    },
  },
  wasi_snapshot_preview1: { fd_close: () => 0, fd_write: () => 0, fd_seek: () => 0 },
};
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(workerData.wasm)), imports);
const api = instance.exports;
memory = api.memory;
if (api.emscripten_stack_init) api.emscripten_stack_init();
if (api.__wasm_call_ctors) api.__wasm_call_ctors();
const ERRORS = { '-2': 'BZ_PARAM_ERROR', '-3': 'BZ_MEM_ERROR', '-8': 'BZ_OUTBUFF_FULL' };
function compress(input, level) {
  const capacity = input.length + Math.ceil(input.length / 100) + 600;
  const source = api.malloc(input.length);
  const dest = api.malloc(capacity);
  const lengthPointer = api.malloc(4);
  try {
    if (!source || !dest || !lengthPointer) throw new RangeError('out of WebAssembly memory');
    new Uint8Array(memory.buffer).set(input, source);
    new DataView(memory.buffer).setUint32(lengthPointer, capacity, true);
    const status = api.BZ2_bzBuffToBuffCompress(dest, lengthPointer, source, input.length, level, 0, 0);
    if (status !== 0) throw new RangeError('compression failed: ' + (ERRORS[status] || status));
    const length = new DataView(memory.buffer).getUint32(lengthPointer, true);
    return new Uint8Array(memory.buffer, dest, length).slice();
  } finally {
    api.free(source); api.free(dest); api.free(lengthPointer);
  }
}
parentPort.on('message', ({ id, input, level }) => {
  try {
    const output = compress(new Uint8Array(input), level);
    parentPort.postMessage({ id, output: output.buffer }, [output.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface Job {
  resolve(output: Buffer): void;
  reject(error: Error): void;
}

interface WorkerReply {
  id: number;
  output?: ArrayBuffer;
  error?: string;
}

/**
 * The shared worker: started when a bzip2 file is opened for writing, stopped when the last one
 * is closed (so nothing is left running), referenced only while blocks are in flight.
 */
class Bzip2Worker {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private users = 0;

  acquire(): void {
    this.users++;
  }

  /** Stops the worker when nobody else uses it; resolves once it is gone. */
  release(): Promise<void> {
    this.users--;
    const worker = this.worker;
    if (this.users > 0 || !worker) return Promise.resolve();
    this.worker = undefined;
    return worker.terminate().then(() => undefined);
  }

  compress(input: Uint8Array, level: number): Promise<Buffer> {
    const worker = this.start();
    const id = this.nextId++;
    // A copy the worker can take over (the caller's bytes may sit in a shared pool).
    const copy = new Uint8Array(input.length);
    copy.set(input);
    return new Promise<Buffer>((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      if (this.jobs.size === 1) worker.ref();
      worker.postMessage({ id, input: copy.buffer, level }, [copy.buffer]);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const wasmPath = requireHere.resolve('bzip2-wasm/bzip2-1.0.8/bzip2.wasm');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { wasm: wasmPath } });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      if (this.jobs.size === 0) worker.unref();
      if (reply.output) job.resolve(Buffer.from(reply.output));
      else job.reject(new RangeError(`bzip2: ${reply.error ?? 'compression failed'}`));
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const job of this.jobs.values()) job.reject(error);
      this.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) =>
      fail(new RangeError(`bzip2: the compression worker exited with code ${code}`)),
    );
    this.worker = worker;
    return worker;
  }
}

const sharedWorker = new Bzip2Worker();

const requireHere = createRequire(import.meta.url);

/** Compresses one whole buffer to one complete bzip2 stream, in the worker thread. @internal */
export function bzip2Block(input: Uint8Array, level: number): Promise<Buffer> {
  return sharedWorker.compress(input, level);
}

/**
 * A streaming bzip2 compressor: `level` x 100 kB pieces, each one complete stream, compressed
 * in the worker with up to two pieces in flight, written in order. @internal
 */
export class Bzip2Compressor extends Transform {
  private readonly blockSize: number;
  private parts: Buffer[] = [];
  private length = 0;
  private wroteBlock = false;
  private readonly inFlight: Promise<Buffer>[] = [];

  constructor(
    private readonly level: number,
    highWaterMark: number,
  ) {
    super({ highWaterMark });
    this.blockSize = level * 100_000;
    sharedWorker.acquire();
  }

  private released = false;

  private release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return sharedWorker.release();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.release().then(
      () => callback(error),
      () => callback(error),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.gather(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    const last = this.length > 0 || !this.wroteBlock ? this.submit() : Promise.resolve();
    // An empty file is still one (empty) bzip2 stream, as `bzip2 < /dev/null` writes.
    last
      .then(() => this.pushFinished(0))
      .then(() => this.release())
      .then(() => callback(), callback);
  }

  private async gather(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const count = Math.min(this.blockSize - this.length, chunk.length - offset);
      this.parts.push(chunk.subarray(offset, offset + count));
      this.length += count;
      offset += count;
      if (this.length === this.blockSize) await this.submit();
    }
  }

  /** Sends the gathered piece to the worker; waits while two are in flight already. */
  private async submit(): Promise<void> {
    const block = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    this.wroteBlock = true;
    const job = bzip2Block(block, this.level);
    job.catch(() => {}); // handled where it is awaited, in order
    this.inFlight.push(job);
    await this.pushFinished(1);
  }

  /** Pushes finished pieces, in order, until at most `keep` are in flight. */
  private async pushFinished(keep: number): Promise<void> {
    while (this.inFlight.length > keep) {
      const output = await this.inFlight.shift()!;
      this.push(output);
    }
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
