import { access } from 'node:fs/promises';

import { getLogger } from '@aiomisc/core';
import { asyncOpen, Compression } from '@aiomisc/io';

const log = getLogger('sample.data');

/** Lines of the sample's data file. */
export const DATA_LINES = 1000;

/** Writes the gzip data file (atomically) unless it exists. */
export async function ensureDataFile(path: string): Promise<void> {
  try {
    await access(path);
    return;
  } catch {
    // missing: write it
  }
  const file = await asyncOpen(path, 'w', { compression: Compression.GZIP, atomic: true });
  try {
    const lines = Array.from(
      { length: DATA_LINES },
      (_, index) => `line ${index + 1}: the quick brown fox jumps over the lazy dog\n`,
    );
    await file.writelines(lines);
  } finally {
    await file.close();
  }
  log.info(`wrote ${path} (${DATA_LINES} lines, gzip)`);
}

/** Reads the gzip data file line by line through asyncOpen. */
export async function readDataFile(
  path: string,
): Promise<{ lines: number; first: string; last: string }> {
  const file = await asyncOpen(path, 'r', { compression: Compression.GZIP });
  let lines = 0;
  let first = '';
  let last = '';
  try {
    for await (const line of file) {
      if (lines === 0) first = line.trimEnd();
      last = line.trimEnd();
      lines++;
    }
  } finally {
    await file.close();
  }
  return { lines, first, last };
}
