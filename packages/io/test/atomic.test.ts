import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { asyncOpen, Compression, FileExistsError } from '../src/index';
import { openFds, tempDir } from './helpers';

describe('atomic writes', () => {
  it('replaces the target only on close(), from a temporary file in the same directory', async () => {
    const dir = tempDir();
    const path = join(dir, 'config.json');
    writeFileSync(path, 'old');
    const file = await asyncOpen(path, 'w', { atomic: true });
    expect(file.atomic).toBe(true);
    await file.write('new content');
    await file.flush();
    expect(readFileSync(path, 'utf8')).toBe('old');
    const temporary = readdirSync(dir).filter((name) => name !== 'config.json');
    expect(temporary).toHaveLength(1);
    expect(temporary[0]).toMatch(/^\.config\.json\..+\.tmp$/);
    await file.close();
    expect(readFileSync(path, 'utf8')).toBe('new content');
    expect(readdirSync(dir)).toEqual(['config.json']);
  });

  it('leaves the old content and no temporary file when the writer throws', async () => {
    const dir = tempDir();
    const path = join(dir, 'data.txt');
    writeFileSync(path, 'old content\n');
    const before = openFds();
    const writeAndFail = async (): Promise<void> => {
      const file = await asyncOpen(path, 'w', { atomic: true });
      try {
        await file.write('half of the new');
        throw new Error('the writer failed');
      } finally {
        // What `await using file = ...` does at the end of its block.
        await file[Symbol.asyncDispose]();
      }
    };
    await expect(writeAndFail()).rejects.toThrow('the writer failed');
    expect(readFileSync(path, 'utf8')).toBe('old content\n');
    expect(readdirSync(dir)).toEqual(['data.txt']);
    expect(openFds()).toBe(before);
  });

  it('discards the new content on abort()', async () => {
    const dir = tempDir();
    const path = join(dir, 'data.bin');
    writeFileSync(path, 'keep');
    const file = await asyncOpen(path, 'wb', { atomic: true, compression: Compression.GZIP });
    await file.write(Buffer.alloc(200_000, 1));
    await file.abort();
    await file.close();
    expect(readFileSync(path, 'utf8')).toBe('keep');
    expect(readdirSync(dir)).toEqual(['data.bin']);
  });

  it('commits when close() is called before the dispose', async () => {
    const dir = tempDir();
    const path = join(dir, 'done.txt');
    const file = await asyncOpen(path, 'w+', { atomic: true });
    await file.write('abc');
    await file.seek(0);
    expect(await file.read()).toBe('abc');
    await file.close();
    await file[Symbol.asyncDispose]();
    expect(readFileSync(path, 'utf8')).toBe('abc');
  });

  it('writes compressed files atomically', async () => {
    const dir = tempDir();
    const path = join(dir, 'log.gz');
    const file = await asyncOpen(path, 'w', { atomic: true, compression: Compression.GZIP });
    for (let i = 0; i < 1000; i++) await file.write(`line ${i}\n`);
    await file.close();
    expect(gunzipSync(readFileSync(path)).toString().split('\n')).toHaveLength(1001);
    expect(readdirSync(dir)).toEqual(['log.gz']);
  });

  it('keeps the permissions of the file it replaces', async () => {
    const dir = tempDir();
    const path = join(dir, 'secret');
    writeFileSync(path, 'old');
    chmodSync(path, 0o600);
    const file = await asyncOpen(path, 'w', { atomic: true });
    await file.write('new');
    await file.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('never replaces an existing file in x mode: at open, and when one appears meanwhile', async () => {
    const dir = tempDir();
    const path = join(dir, 'report.txt');
    writeFileSync(path, 'first');
    const early = await asyncOpen(path, 'x', { atomic: true }).catch((error: unknown) => error);
    expect(FileExistsError.isInstance(early)).toBe(true);
    expect(early).toMatchObject({ code: 'EEXIST', path });

    const later = join(dir, 'later.txt');
    const file = await asyncOpen(later, 'x', { atomic: true });
    await file.write('mine');
    writeFileSync(later, 'theirs');
    const error = await file.close().catch((caught: unknown) => caught);
    expect(FileExistsError.isInstance(error)).toBe(true);
    expect(readFileSync(later, 'utf8')).toBe('theirs');
    expect(readdirSync(dir).sort()).toEqual(['later.txt', 'report.txt']);

    const fresh = join(dir, 'fresh.txt');
    const created = await asyncOpen(fresh, 'x', { atomic: true });
    await created.write('new');
    await created.close();
    expect(readFileSync(fresh, 'utf8')).toBe('new');
  });

  it('fails with ENOENT and leaves nothing behind when the directory does not exist', async () => {
    const dir = tempDir();
    const path = join(dir, 'sub', 'file.txt');
    await expect(asyncOpen(path, 'w', { atomic: true })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves the old file intact when the process is killed mid-write', async () => {
    const dir = tempDir();
    const path = join(dir, 'state.json');
    writeFileSync(path, 'old state');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/atomic-crash.ts', import.meta.url)),
        path,
      ],
      { cwd: fileURLToPath(new URL('.', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(child.stdout, 'data');
    expect(readdirSync(dir)).toHaveLength(2); // the target and the temporary file
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(readFileSync(path, 'utf8')).toBe('old state');
    // Nothing ran to remove the temporary file; it is named so that it is easy to find.
    expect(readdirSync(dir).filter((name) => name !== 'state.json')[0]).toMatch(
      /^\.state\.json\..+\.tmp$/,
    );
  });
});
