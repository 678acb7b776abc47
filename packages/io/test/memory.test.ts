import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Compression } from '../src/index';
import { tempDir } from './helpers';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/round-trip.ts', import.meta.url));

interface Figures {
  written: number;
  read: number;
  lines: number;
  count: number;
  bad: number;
  growth: number;
}

async function roundTrip(
  compression: Compression,
  megabytes: number,
  level: number,
): Promise<Figures> {
  const path = join(tempDir(), `big.${compression}`);
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', fixture, path, compression, String(megabytes), String(level)],
    {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      maxBuffer: 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim()) as Figures;
}

const MB = 1024 * 1024;

describe('memory stays bounded whatever the file size (child process, RSS measured)', () => {
  it('round-trips 200 MB through gzip with RSS growth far below the size', async () => {
    const figures = await roundTrip(Compression.GZIP, 200, 1);
    expect(figures.written).toBeGreaterThanOrEqual(200 * MB);
    expect(figures.read).toBe(figures.written);
    expect(figures.count).toBe(figures.lines);
    expect(figures.bad).toBe(0);
    expect(figures.growth).toBeLessThan(64 * MB);
  }, 600_000);

  for (const compression of [Compression.BZ2, Compression.LZMA]) {
    it(`round-trips 64 MB through ${compression} with RSS growth below three quarters of the size`, async () => {
      const figures = await roundTrip(compression, 64, 1);
      expect(figures.read).toBe(figures.written);
      expect(figures.count).toBe(figures.lines);
      expect(figures.bad).toBe(0);
      expect(figures.growth).toBeLessThan(48 * MB);
    }, 600_000);
  }
});
