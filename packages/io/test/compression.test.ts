import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as zlib from 'node:zlib';
import { systemCommand } from '@aiomisc/test-kit';
import { describe, expect, it } from 'vitest';
import {
  asyncOpen,
  CompressedDataError,
  Compression,
  UnsupportedOperationError,
} from '../src/index';
import { expectInvalidArgument, tempDir } from './helpers';

const zstd = typeof (zlib as unknown as Record<string, unknown>).createZstdCompress === 'function';
const streaming = [
  Compression.GZIP,
  Compression.BZ2,
  Compression.LZMA,
  Compression.BROTLI,
  ...(zstd ? [Compression.ZSTD] : []),
];
const all = [Compression.NONE, ...streaming];

function sample(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `${i} żółw ${'~'.repeat(i % 50)}\n`).join('');
}

describe('compression round trips', () => {
  for (const compression of all) {
    it(`round-trips ${compression} through w, x and a, in text and binary`, async () => {
      const dir = tempDir();
      const text = sample(3000);
      for (const binary of [false, true]) {
        const b = binary ? 'b' : '';
        const path = join(dir, `data.${b}${compression}`);
        const toData = (value: string): never => (binary ? Buffer.from(value) : value) as never;
        const x = await asyncOpen(path, `x${b}`, { compression });
        await x.write(toData(text));
        expect(await x.tell()).toBe(Buffer.byteLength(text));
        await x.close();

        const r = await asyncOpen(path, `r${b}`, { compression });
        expect(String(await r.read())).toBe(text);
        await r.close();

        const w = await asyncOpen(path, `w${b}`, { compression });
        for (const line of text.split(/(?<=\n)/)) await w.write(toData(line));
        await w.close();
        const lines = await asyncOpen(path, `r${b}`, { compression });
        let count = 0;
        for await (const line of lines) {
          expect(String(line)).toBe(`${count} żółw ${'~'.repeat(count % 50)}\n`);
          count++;
        }
        expect(count).toBe(3000);
        await lines.close();

        if (compression === Compression.BROTLI) continue;
        const a = await asyncOpen(path, `a${b}`, { compression });
        await a.write(toData('appended\n'));
        await a.close();
        const again = await asyncOpen(path, `r${b}`, { compression });
        expect(String(await again.read())).toBe(`${text}appended\n`);
        await again.close();
      }
    });
  }

  for (const compression of streaming) {
    it(`refuses the + modes with ${compression}, naming the mode`, async () => {
      const path = join(tempDir(), 'plus');
      for (const mode of ['r+', 'w+', 'a+', 'x+', 'r+b', 'wb+']) {
        await expectInvalidArgument(asyncOpen(path, mode, { compression }), 'mode', mode);
      }
    });

    it(`round-trips an empty ${compression} file`, async () => {
      const path = join(tempDir(), 'empty');
      await (await asyncOpen(path, 'wb', { compression })).close();
      const reader = await asyncOpen(path, 'rb', { compression });
      expect((await reader.read()).length).toBe(0);
      expect(await reader.readline()).toEqual(Buffer.alloc(0));
      await reader.close();
    });

    it(`rejects a corrupt ${compression} file with an error on read`, async () => {
      const path = join(tempDir(), 'corrupt');
      const writer = await asyncOpen(path, 'wb', { compression });
      await writer.write(Buffer.from(sample(2000)));
      await writer.close();
      const bytes = readFileSync(path);
      const middle = Math.floor(bytes.length / 2);
      for (let i = middle; i < middle + 32 && i < bytes.length; i++) bytes[i] = bytes[i]! ^ 0x5a;
      writeFileSync(path, bytes);
      const reader = await asyncOpen(path, 'rb', { compression });
      await expect(reader.read()).rejects.toBeInstanceOf(Error);
      await reader.close();

      writeFileSync(path, 'this is not compressed at all, just text\n'.repeat(10));
      const garbage = await asyncOpen(path, 'rb', { compression });
      await expect(garbage.read()).rejects.toBeInstanceOf(Error);
      await garbage.close();
    });

    it(`rejects a truncated ${compression} file instead of ending early`, async () => {
      const path = join(tempDir(), 'truncated');
      const writer = await asyncOpen(path, 'wb', { compression });
      await writer.write(Buffer.from(sample(20_000)));
      await writer.close();
      const bytes = readFileSync(path);
      writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const reader = await asyncOpen(path, 'rb', { compression });
      const error: unknown = await reader.read().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      if (compression === Compression.LZMA || compression === Compression.BZ2) {
        expect(CompressedDataError.isInstance(error), String(error)).toBe(true);
      }
      await reader.close();
    });

    it(`seeks in a ${compression} file being read: forwards, backwards (re-reading) and from the end`, async () => {
      const path = join(tempDir(), 'seek');
      const data = Buffer.from(sample(20_000));
      const writer = await asyncOpen(path, 'wb', { compression });
      await writer.write(data);
      await writer.close();
      const reader = await asyncOpen(path, 'rb', { compression });
      expect(reader.seekable()).toBe(true);
      expect(await reader.seek(200_000)).toBe(200_000);
      expect(await reader.read(10)).toEqual(data.subarray(200_000, 200_010));
      expect(await reader.seek(5)).toBe(5);
      expect(await reader.read(10)).toEqual(data.subarray(5, 15));
      expect(await reader.seek(100, 1)).toBe(115);
      expect(await reader.tell()).toBe(115);
      expect(await reader.seek(-10, 2)).toBe(data.length - 10);
      expect(await reader.read()).toEqual(data.subarray(data.length - 10));
      expect(await reader.seek(data.length + 100)).toBe(data.length);
      await reader.close();
    });

    it(`seeks forwards only while writing ${compression}, writing zeros as Python's gzip does`, async () => {
      const path = join(tempDir(), 'seekw');
      const writer = await asyncOpen(path, 'wb', { compression });
      expect(writer.seekable()).toBe(false);
      await writer.write(Buffer.from('ab'));
      expect(await writer.seek(5)).toBe(5);
      expect(await writer.seek(1, 1)).toBe(6);
      await writer.write(Buffer.from('z'));
      await expect(writer.seek(0)).rejects.toThrow(UnsupportedOperationError);
      await expect(writer.seek(0, 2)).rejects.toThrow(UnsupportedOperationError);
      await expect(writer.truncate()).rejects.toThrow(UnsupportedOperationError);
      expect(await writer.tell()).toBe(7);
      await writer.close();
      const reader = await asyncOpen(path, 'rb', { compression });
      expect(await reader.read()).toEqual(Buffer.from('ab\0\0\0\0z'));
      await expect(reader.truncate(0)).rejects.toThrow(UnsupportedOperationError);
      await reader.close();
    });
  }

  it('tells uncompressed byte positions in a compressed text file and seeks back to them', async () => {
    const path = join(tempDir(), 'tell.gz');
    const writer = await asyncOpen(path, 'w', { compression: Compression.GZIP });
    await writer.write(sample(5000));
    await writer.close();
    const reader = await asyncOpen(path, 'r', { compression: Compression.GZIP });
    const first = await reader.readline();
    const position = await reader.tell();
    expect(position).toBe(Buffer.byteLength(first));
    const second = await reader.readline();
    await reader.readlines();
    expect(await reader.seek(position)).toBe(position);
    expect(await reader.readline()).toBe(second);
    await reader.close();
  });

  it('writes a gzip file that is readable after flush(), before close()', async () => {
    const path = join(tempDir(), 'flushed.gz');
    const writer = await asyncOpen(path, 'w', { compression: Compression.GZIP });
    await writer.write('first part\n');
    await writer.flush();
    const partial = zlib.gunzipSync(readFileSync(path), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    expect(partial.toString()).toBe('first part\n');
    await writer.close();
  });

  it('compresses: 10000 lines of "Hello World" gzip to less than 10000 bytes (the seed example)', async () => {
    const path = join(tempDir(), 'test.txt');
    const file = await asyncOpen(path, 'w+'.replace('+', ''), { compression: Compression.GZIP });
    for (let i = 0; i < 10_000; i++) await file.write('Hello World\n');
    await file.close();
    expect(readFileSync(path).length).toBeLessThan(10_000);
  });

  it.skipIf(zstd)('refuses ZSTD with a clear error where Node has no zstd', async () => {
    const path = join(tempDir(), 'zstd');
    const error: unknown = await asyncOpen(path, 'w', { compression: Compression.ZSTD }).catch(
      (caught: unknown) => caught,
    );
    expect(UnsupportedOperationError.isInstance(error)).toBe(true);
    expect(String(error)).toContain('zstd');
    expect(String(error)).toContain(process.version);
  });
});

const tools = [
  { compression: Compression.GZIP, tool: 'gzip', install: 'apt-get install gzip' },
  { compression: Compression.BZ2, tool: 'bzip2', install: 'apt-get install bzip2' },
  { compression: Compression.LZMA, tool: 'xz', install: 'apt-get install xz-utils' },
] as const;

for (const { compression, tool, install } of tools) {
  describe.skipIf(!systemCommand(tool, { install }))(
    `${compression} interop with the system ${tool}`,
    () => {
      const data = sample(60_000); // ~2.5 MB: several bzip2 blocks

      it(`writes files that ${tool} -d reads`, async () => {
        const path = join(tempDir(), `ours.${tool}`);
        const writer = await asyncOpen(path, 'w', { compression });
        await writer.write(data);
        await writer.close();
        const appender = await asyncOpen(path, 'a', { compression });
        await appender.write('tail\n');
        await appender.close();
        const out = execFileSync(tool, ['-d', '-c', path], { maxBuffer: 64 * 1024 * 1024 });
        expect(out.toString()).toBe(`${data}tail\n`);
        execFileSync(tool, ['-t', path]);
      });

      it(`reads files that ${tool} writes, including concatenated ones`, async () => {
        const dir = tempDir();
        const plain = join(dir, 'plain.txt');
        writeFileSync(plain, data);
        const compressed = execFileSync(tool, ['-c', plain], { maxBuffer: 64 * 1024 * 1024 });
        const second = execFileSync(tool, ['-c'], { input: 'second stream\n' });
        const path = join(dir, `theirs.${tool}`);
        writeFileSync(path, Buffer.concat([compressed, second]));
        const reader = await asyncOpen(path, 'r', { compression });
        let count = 0;
        let last = '';
        for await (const line of reader) {
          count++;
          last = line;
        }
        expect(count).toBe(60_001);
        expect(last).toBe('second stream\n');
        await reader.seek(0);
        expect(await reader.read()).toBe(`${data}second stream\n`);
        await reader.close();
      });
    },
  );
}

describe.skipIf(!systemCommand('bzip2', { install: 'apt-get install bzip2' }))(
  'the bzip2 decoder',
  () => {
    const inputs: [string, Buffer][] = [
      ['random bytes', randomBytes(1_200_000)],
      [
        'long runs',
        Buffer.concat([Buffer.alloc(2_000_000, 0x61), Buffer.from('b'), Buffer.alloc(70_000, 0)]),
      ],
      [
        'runs of 4 to 300',
        Buffer.concat(Array.from({ length: 3000 }, (_, i) => Buffer.alloc(4 + (i % 297), i % 251))),
      ],
      ['one byte', Buffer.from('z')],
      ['all byte values', Buffer.from(Array.from({ length: 256 * 40 }, (_, i) => (i * 7) % 256))],
    ];
    for (const level of [1, 5, 9]) {
      it(`reads what bzip2 -${level} writes, byte for byte`, async () => {
        const dir = tempDir();
        for (const [name, data] of inputs) {
          const path = join(dir, `${name}.bz2`);
          writeFileSync(
            path,
            execFileSync('bzip2', ['-c', `-${level}`], { input: data, maxBuffer: 1 << 26 }),
          );
          const reader = await asyncOpen(path, 'rb', { compression: Compression.BZ2 });
          const out = await reader.read();
          await reader.close();
          expect(out.equals(data), name).toBe(true);
        }
      });
    }

    it('finds a flipped bit through the block CRC', async () => {
      const path = join(tempDir(), 'flipped.bz2');
      const data = Buffer.from(sample(500));
      const compressed = execFileSync('bzip2', ['-c'], { input: data });
      // Flip one bit of the block CRC (bytes 10-13: after "BZh9" and the 6-byte block magic).
      compressed[11] = compressed[11]! ^ 0x10;
      writeFileSync(path, compressed);
      const reader = await asyncOpen(path, 'rb', { compression: Compression.BZ2 });
      const error: unknown = await reader.read().catch((caught: unknown) => caught);
      expect(CompressedDataError.isInstance(error), String(error)).toBe(true);
      expect(String(error)).toContain('CRC');
      await reader.close();
    });

    it('compresses in a worker thread, leaving the event loop free', async () => {
      const path = join(tempDir(), 'worker.bz2');
      const data = randomBytes(3 * 900_000);
      const writer = await asyncOpen(path, 'wb', { compression: Compression.BZ2, level: 9 });
      const start = performance.eventLoopUtilization();
      await writer.write(data);
      await writer.close();
      const used = performance.eventLoopUtilization(start);
      // On the main thread this would be close to 1 (the compression is 3 blocks of CPU work).
      expect(used.utilization).toBeLessThan(0.5);
      expect(execFileSync('bzip2', ['-d', '-c', path], { maxBuffer: 1 << 23 }).equals(data)).toBe(
        true,
      );
    });

    it('decodes a highly compressible file block by block, as the reader asks', async () => {
      const path = join(tempDir(), 'bomb.bz2');
      // 200 MB of zeros compress to a few hundred bytes: the decoder must not inflate it all at once.
      const writer = await asyncOpen(path, 'wb', { compression: Compression.BZ2, level: 9 });
      const zeros = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 200; i++) await writer.write(zeros);
      await writer.close();
      const reader = await asyncOpen(path, 'rb', { compression: Compression.BZ2 });
      const first = await reader.read(10);
      expect(first).toEqual(Buffer.alloc(10));
      const before = process.memoryUsage().arrayBuffers;
      await reader.read(5 * 1024 * 1024);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
      await reader.close();
    });
  },
);
