import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asyncOpen, ClosedFileError, Compression, UnsupportedOperationError } from '../src/index';
import { expectInvalidArgument, openFds, tempDir } from './helpers';

function packInt(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

describe('asyncOpen seek/tell (the seed tests)', () => {
  it('writes, seeks to 0 and reads back in text w+ mode', async () => {
    const path = join(tempDir(), 'test');
    const file = await asyncOpen(path, 'w+');
    expect(file.writable()).toBe(true);
    expect(file.readable()).toBe(true);
    expect(await file.tell()).toBe(0);
    await file.write('foo');
    expect(await file.tell()).toBe(3);
    await file.seek(0);
    expect(await file.read()).toBe('foo');
    await file.write('\nbar\n');
    await file.seek(0);
    expect(await file.readline()).toBe('foo\n');
    expect(await file.readline()).toBe('bar\n');
    await file.flush();
    expect(await file.read()).toBe('');
    await file.close();
    expect(file.closed).toBe(true);
    expect(() => file.readable()).toThrow(ClosedFileError);
    expect(() => file.writable()).toThrow(ClosedFileError);
  });

  it('seeks past the end, writes a packed int, tells, and reads it back in binary', async () => {
    const path = join(tempDir(), 'file');
    const writer = await asyncOpen(path, 'wb+');
    expect(await writer.seek(4)).toBe(4);
    expect(await writer.tell()).toBe(4);
    await writer.write(packInt(65535));
    expect(await writer.tell()).toBe(8);
    await writer.close();

    const reader = await asyncOpen(path, 'rb+');
    expect(await reader.read(4)).toEqual(Buffer.alloc(4));
    expect(await reader.tell()).toBe(4);
    expect(await reader.read(4)).toEqual(packInt(65535));
    expect(await reader.tell()).toBe(8);
    await reader.close();
  });

  it('seeks from the current position and from the end in binary mode', async () => {
    const path = join(tempDir(), 'bytes');
    writeFileSync(path, '0123456789');
    const file = await asyncOpen(path, 'rb');
    expect(await file.seek(-3, 2)).toBe(7);
    expect((await file.read()).toString()).toBe('789');
    await file.seek(2);
    expect(await file.seek(3, 1)).toBe(5);
    expect((await file.read(2)).toString()).toBe('56');
    await file.seek(0);
    expect((await file.read(3)).toString()).toBe('012');
    await expectInvalidArgument(file.seek(-1), 'offset', -1);
    await expectInvalidArgument(file.seek(-20, 2), 'offset', -20);
    await file.close();
  });

  it('takes only Python text-mode seeks in text mode', async () => {
    const path = join(tempDir(), 'text');
    writeFileSync(path, 'abc');
    const file = await asyncOpen(path, 'r');
    expect(() => file.seek(1, 1)).toThrow(UnsupportedOperationError);
    expect(() => file.seek(-1, 2)).toThrow(UnsupportedOperationError);
    expect(await file.seek(0, 2)).toBe(3);
    expect(await file.seek(0, 1)).toBe(3);
    expect(() => file.seek(0, 3 as 0)).toThrow(/whence/);
    await file.close();
  });
});

describe('asyncOpen modes on plain files', () => {
  it('round-trips text and bytes through every mode', async () => {
    const dir = tempDir();
    for (const binary of [false, true]) {
      const suffix = binary ? 'b' : '';
      const data = (text: string): string | Buffer => (binary ? Buffer.from(text) : text);
      const path = join(dir, `modes${suffix}`);
      const show = async (): Promise<string> => readFileSync(path, 'utf8');

      const x = await asyncOpen(path, `x${suffix}`);
      await x.write(data('x\n') as never);
      await x.close();
      expect(await show()).toBe('x\n');

      const w = await asyncOpen(path, `w${suffix}`);
      expect(() => w.readable()).not.toThrow();
      expect(w.readable()).toBe(false);
      await w.write(data('one\n') as never);
      await w.close();
      expect(await show()).toBe('one\n');

      const a = await asyncOpen(path, `a${suffix}`);
      expect(await a.tell()).toBe(4);
      await a.write(data('two\n') as never);
      await a.close();
      expect(await show()).toBe('one\ntwo\n');

      const r = await asyncOpen(path, `r${suffix}`);
      expect(String(await r.read())).toBe('one\ntwo\n');
      await expect(r.write(data('no') as never)).rejects.toThrow(UnsupportedOperationError);
      await r.close();

      const rPlus = await asyncOpen(path, `r+${suffix}`);
      expect(String(await rPlus.read(3))).toBe('one');
      await rPlus.write(data('!') as never);
      await rPlus.seek(0);
      expect(String(await rPlus.readline())).toBe('one!two\n');
      await rPlus.close();

      const aPlus = await asyncOpen(path, `a+${suffix}`);
      expect(await aPlus.tell()).toBe(8);
      await aPlus.seek(0);
      expect(String(await aPlus.readline())).toBe('one!two\n');
      // Writes in an append mode go to the end wherever the position was.
      await aPlus.seek(0);
      await aPlus.write(data('three\n') as never);
      expect(await aPlus.tell()).toBe(14);
      await aPlus.seek(0);
      expect(String(await aPlus.read())).toBe('one!two\nthree\n');
      await aPlus.close();

      const wPlus = await asyncOpen(path, `w+${suffix}`);
      expect(String(await wPlus.read())).toBe('');
      await wPlus.write(data('fresh') as never);
      await wPlus.seek(0);
      expect(String(await wPlus.read())).toBe('fresh');
      expect(await wPlus.truncate(2)).toBe(2);
      await wPlus.seek(0);
      expect(String(await wPlus.read())).toBe('fr');
      await wPlus.close();

      const xPath = join(dir, `xplus${suffix}`);
      const xPlus = await asyncOpen(xPath, `x+${suffix}`);
      await xPlus.write(data('xy') as never);
      await xPlus.seek(0);
      expect(String(await xPlus.read())).toBe('xy');
      await xPlus.close();
    }
  });

  it('accepts mode letters in any order, as Python does, and a file: URL', async () => {
    const path = join(tempDir(), 'order');
    const file = await asyncOpen(pathToFileURL(path), 'b+w');
    await file.write(Buffer.from('ok'));
    await file.close();
    const text = await asyncOpen(path, 'rt');
    expect(await text.read()).toBe('ok');
    await text.close();
  });

  it('writes and reads back lines, readlines with a hint, and for await', async () => {
    const path = join(tempDir(), 'lines');
    const file = await asyncOpen(path, 'w+');
    await file.writelines(['a\n', 'bb\n', 'ccc\n', 'last']);
    await file.seek(0);
    expect(await file.readlines()).toEqual(['a\n', 'bb\n', 'ccc\n', 'last']);
    await file.seek(0);
    expect(await file.readlines(4)).toEqual(['a\n', 'bb\n']);
    await file.seek(0);
    expect(await file.readline(1)).toBe('a');
    expect(await file.readline(5)).toBe('\n');
    const lines: string[] = [];
    for await (const line of file) lines.push(line);
    expect(lines).toEqual(['bb\n', 'ccc\n', 'last']);
    expect(await file.readline()).toBe('');
    await file.close();
  });

  it('reads lines longer than the buffer and files without a final newline', async () => {
    const path = join(tempDir(), 'long');
    const long = 'x'.repeat(300_000);
    writeFileSync(path, `${long}\nshort\n${long}`);
    const file = await asyncOpen(path);
    expect(await file.readline()).toBe(`${long}\n`);
    expect(await file.readline()).toBe('short\n');
    expect(await file.readline()).toBe(long);
    expect(await file.readline()).toBe('');
    await file.close();
  });

  it('reads a multi-byte UTF-8 character split across chunk boundaries, by characters', async () => {
    const path = join(tempDir(), 'utf8');
    // 65535 ASCII bytes, then 'é' (2 bytes) across the 64 KiB boundary, then 4-byte emoji.
    const text = `${'a'.repeat(65_535)}é${'😀'.repeat(40_000)}\nżółw\n`;
    writeFileSync(path, text);
    const lines = await asyncOpen(path);
    expect(await lines.readline()).toBe(`${'a'.repeat(65_535)}é${'😀'.repeat(40_000)}\n`);
    expect(await lines.readline()).toBe('żółw\n');
    await lines.close();

    const chars = await asyncOpen(path);
    expect(await chars.read(65_535)).toBe('a'.repeat(65_535));
    expect(await chars.read(1)).toBe('é');
    expect(await chars.tell()).toBe(65_537);
    // read(n) counts characters (code points), as Python does: one emoji is one character.
    expect(await chars.read(3)).toBe('😀😀😀');
    expect(await chars.readline(2)).toBe('😀😀');
    const rest = await chars.read();
    expect(rest).toBe(`${'😀'.repeat(40_000 - 5)}\nżółw\n`);
    await chars.close();

    // Character by character over a boundary that splits a 4-byte emoji.
    const emojiPath = join(tempDir(), 'emoji');
    writeFileSync(emojiPath, `${'b'.repeat(65_534)}😀z`);
    const emoji = await asyncOpen(emojiPath);
    await emoji.read(65_534);
    expect(await emoji.read(1)).toBe('😀');
    expect(await emoji.read(1)).toBe('z');
    expect(await emoji.read(1)).toBe('');
    await emoji.close();
  });

  it('tells byte positions in text mode after lines and characters, and writes where reading stopped', async () => {
    const path = join(tempDir(), 'tell');
    writeFileSync(path, 'żółw\nab\ncd\n');
    const file = await asyncOpen(path, 'r+');
    expect(await file.readline()).toBe('żółw\n');
    expect(await file.tell()).toBe(Buffer.byteLength('żółw\n'));
    expect(await file.read(1)).toBe('a');
    expect(await file.tell()).toBe(9);
    expect(await file.seek(0, 1)).toBe(9);
    await file.write('X');
    expect(await file.tell()).toBe(10);
    expect(await file.readline()).toBe('\n');
    await file.seek(0);
    expect(await file.read()).toBe('żółw\naX\ncd\n');
    await file.seek(8);
    expect(await file.readline()).toBe('aX\n');
    expect(await file.truncate()).toBe(11);
    await file.seek(0);
    expect(await file.readlines()).toEqual(['żółw\n', 'aX\n']);
    await file.close();
  });

  it('returns the characters written, counting code points as Python does', async () => {
    const file = await asyncOpen(join(tempDir(), 'count'), 'w');
    expect(await file.write('żółw')).toBe(4);
    expect(await file.write('😀a')).toBe(2);
    const binary = await asyncOpen(join(tempDir(), 'count'), 'wb');
    expect(await binary.write(Buffer.from('😀a'))).toBe(5);
    await file.close();
    await binary.close();
  });

  it('uses the encoding given', async () => {
    const path = join(tempDir(), 'latin1');
    const file = await asyncOpen(path, 'w', { encoding: 'latin1' });
    expect(file.encoding).toBe('latin1');
    await file.write('café\n');
    await file.close();
    expect(readFileSync(path)).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    const reader = await asyncOpen(path, 'r', { encoding: 'latin1' });
    expect(await reader.readline()).toBe('café\n');
    await reader.close();
  });

  it('lets concurrent readers of one handle see each line exactly once', async () => {
    const path = join(tempDir(), 'parallel');
    const expected = Array.from({ length: 20_000 }, (_, i) => `${i}:${'z'.repeat(i % 97)}\n`);
    writeFileSync(path, expected.join(''));
    const file = await asyncOpen(path);
    const seen: string[] = [];
    const reader = async (): Promise<number> => {
      let count = 0;
      for await (const line of file) {
        seen.push(line);
        count++;
        if (count % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      return count;
    };
    const counts = await Promise.all([reader(), reader(), reader(), reader()]);
    await file.close();
    expect(seen.length).toBe(expected.length);
    expect(new Set(seen).size).toBe(expected.length);
    expect(seen.slice().sort()).toEqual(expected.slice().sort());
    expect(counts.filter((count) => count > 0).length).toBeGreaterThan(1);
  });

  it('runs operations in call order without awaiting each one', async () => {
    const path = join(tempDir(), 'order');
    const file = await asyncOpen(path, 'w+');
    const writes = Array.from({ length: 100 }, (_, i) => file.write(`${i},`));
    const seek = file.seek(0);
    const read = file.read();
    await Promise.all([...writes, seek]);
    expect(await read).toBe(Array.from({ length: 100 }, (_, i) => `${i},`).join(''));
    await file.close();
  });

  it('copies a written buffer, so changing it afterwards changes nothing', async () => {
    const path = join(tempDir(), 'copy');
    const file = await asyncOpen(path, 'wb');
    const data = Buffer.from('abc');
    await file.write(data);
    data.fill(0x7a);
    await file.close();
    expect(readFileSync(path, 'utf8')).toBe('abc');
  });
});

describe('asyncOpen errors', () => {
  it('names a bad mode, compression, level or encoding, and opens nothing', async () => {
    const dir = tempDir();
    const path = join(dir, 'never');
    const before = openFds();
    await expectInvalidArgument(asyncOpen(path, 'rw'), 'mode', 'rw');
    await expectInvalidArgument(asyncOpen(path, 'r++'), 'mode', 'r++');
    await expectInvalidArgument(asyncOpen(path, 'wbt'), 'mode', 'wbt');
    await expectInvalidArgument(asyncOpen(path, 'q'), 'mode', 'q');
    await expectInvalidArgument(asyncOpen(path, ''), 'mode', '');
    await expectInvalidArgument(
      asyncOpen(path, 'w', { compression: 'zip' as never }),
      'compression',
      'zip',
    );
    await expectInvalidArgument(
      asyncOpen(path, 'w', { compression: Compression.GZIP, level: 10 }),
      'level',
      10,
    );
    await expectInvalidArgument(
      asyncOpen(path, 'w', { encoding: 'utf-16' as never }),
      'encoding',
      'utf-16',
    );
    await expectInvalidArgument(asyncOpen(path, 'wb', { encoding: 'utf-8' }), 'encoding', 'utf-8');
    await expectInvalidArgument(
      asyncOpen(path, 'w+', { compression: Compression.GZIP }),
      'mode',
      'w+',
    );
    await expectInvalidArgument(
      asyncOpen(path, 'a', { compression: Compression.BROTLI }),
      'mode',
      'a',
    );
    await expectInvalidArgument(asyncOpen(path, 'a', { atomic: true }), 'atomic', true);
    await expectInvalidArgument(asyncOpen('', 'r'), 'path', '');
    expect(existsSync(path)).toBe(false);
    expect(openFds()).toBe(before);
  });

  it('gives the system error naming the path for a missing file in r and an existing one in x', async () => {
    const dir = tempDir();
    const missing = join(dir, 'missing.txt');
    await expect(asyncOpen(missing, 'r')).rejects.toMatchObject({ code: 'ENOENT', path: missing });
    await expect(asyncOpen(missing, 'r')).rejects.toThrow(missing);
    await expect(asyncOpen(missing, 'rb', { compression: Compression.GZIP })).rejects.toMatchObject(
      { code: 'ENOENT' },
    );
    const existing = join(dir, 'existing.txt');
    writeFileSync(existing, 'keep');
    await expect(asyncOpen(existing, 'x')).rejects.toMatchObject({
      code: 'EEXIST',
      path: existing,
    });
    await expect(
      asyncOpen(existing, 'xb', { compression: Compression.GZIP }),
    ).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(existing, 'utf8')).toBe('keep');
  });

  it('refuses every operation after close() with a ClosedFileError, and a second close() is fine', async () => {
    const path = join(tempDir(), 'closed');
    const file = await asyncOpen(path, 'w+');
    await file.write('data\n');
    await file.close();
    await file.close();
    await file[Symbol.asyncDispose]();
    for (const operation of [
      () => file.read(),
      () => file.readline(),
      () => file.readlines(),
      () => file.write('x'),
      () => file.writelines(['x']),
      () => file.seek(0),
      () => file.tell(),
      () => file.truncate(),
      () => file.flush(),
    ]) {
      const error = await operation().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(ClosedFileError.isInstance(error), String(error)).toBe(true);
      expect((error as ClosedFileError).message).toContain(path);
    }
    const iterator = file[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toThrow(ClosedFileError);
    expect(() => file.seekable()).toThrow(ClosedFileError);
  });

  it('rejects reading a write-only file and writing the wrong type', async () => {
    const path = join(tempDir(), 'wo');
    const file = await asyncOpen(path, 'w');
    await expect(file.read()).rejects.toThrow(UnsupportedOperationError);
    await expect(file.readline()).rejects.toThrow(UnsupportedOperationError);
    expect(() => file.write(Buffer.from('x') as never)).toThrow(/string/);
    await file.close();
    const binary = await asyncOpen(path, 'wb');
    expect(() => binary.write('x' as never)).toThrow(/Buffer/);
    await binary.close();
  });

  it('leaves no file descriptor open after many opens and closes', async () => {
    const dir = tempDir();
    const before = openFds();
    for (const compression of [
      Compression.NONE,
      Compression.GZIP,
      Compression.BZ2,
      Compression.LZMA,
    ]) {
      const path = join(dir, `fd.${compression}`);
      const writer = await asyncOpen(path, 'w', { compression });
      await writer.write('line\n'.repeat(1000));
      await writer.close();
      const reader = await asyncOpen(path, 'r', { compression });
      await reader.readline();
      await reader.close();
      const aborted = await asyncOpen(path, 'r', { compression });
      await aborted.abort();
    }
    expect(openFds()).toBe(before);
  });

  it.skipIf(!existsSync('/dev/full'))(
    'reports a full disk (ENOSPC) on flush, and on close for a compressed file, leaving no descriptor open',
    async () => {
      const before = openFds();
      const plain = await asyncOpen('/dev/full', 'w');
      await plain.write('a little');
      await expect(plain.flush()).rejects.toMatchObject({ code: 'ENOSPC' });
      await plain.close();

      const compressed = await asyncOpen('/dev/full', 'wb', { compression: Compression.GZIP });
      const failure = (async () => {
        for (let i = 0; i < 100; i++) await compressed.write(randomBytes(64 * 1024));
      })();
      await expect(failure).rejects.toMatchObject({ code: 'ENOSPC' });
      await expect(compressed.close()).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(openFds()).toBe(before);
    },
  );
});
