import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { report } from '@aiomisc/bench';
import { asyncOpen, Compression } from '@aiomisc/io';

const MB = 1024 * 1024;

/** Two decimals. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}
const CHUNK = 64 * 1024;

/** Text that compresses about as well as a log file (roughly 4:1 with gzip). */
function payload(megabytes: number): Buffer[] {
  const chunks: Buffer[] = [];
  let seed = 1;
  for (let total = 0; total < megabytes * MB; total += CHUNK) {
    const lines: string[] = [];
    let size = 0;
    while (size < CHUNK) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const line = `2026-12-01T09:${String(seed % 60).padStart(2, '0')} INFO request id=${seed.toString(36)} status=${200 + (seed % 5)}\n`;
      lines.push(line);
      size += line.length;
    }
    chunks.push(Buffer.from(lines.join('')).subarray(0, CHUNK));
  }
  return chunks;
}

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return (performance.now() - start) / 1000;
}

async function oursWrite(
  path: string,
  compression: Compression,
  chunks: Buffer[],
  level?: number,
): Promise<void> {
  const file = await asyncOpen(path, 'wb', { compression, level });
  for (const chunk of chunks) await file.write(chunk);
  await file.close();
}

async function oursRead(path: string, compression: Compression): Promise<number> {
  const file = await asyncOpen(path, 'rb', { compression });
  let total = 0;
  for (;;) {
    const chunk = await file.read(CHUNK);
    if (chunk.length === 0) break;
    total += chunk.length;
  }
  await file.close();
  return total;
}

async function rawGzipWrite(path: string, chunks: Buffer[]): Promise<void> {
  await pipeline(
    async function* () {
      yield* chunks;
    },
    createGzip(),
    createWriteStream(path),
  );
}

async function rawGzipRead(path: string): Promise<number> {
  let total = 0;
  await pipeline(createReadStream(path), createGunzip(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) total += chunk.length;
  });
  return total;
}

/** The system tool as a child process: chunks piped into its stdin, its stdout into a file. */
async function toolWrite(
  command: string,
  args: string[],
  path: string,
  chunks: Buffer[],
): Promise<void> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
    ),
  );
  await Promise.all([
    pipeline(async function* () {
      yield* chunks;
    }, child.stdin),
    pipeline(child.stdout, createWriteStream(path)),
    exited,
  ]);
}

async function toolRead(command: string, args: string[], path: string): Promise<number> {
  const child = spawn(command, [...args, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let total = 0;
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) total += chunk.length;
  return total;
}

async function gzipCase(dir: string): Promise<void> {
  const chunks = payload(100);
  const size = chunks.length * CHUNK;
  const ours = join(dir, 'ours.gz');
  const raw = join(dir, 'raw.gz');
  // Interleaved rounds, the best of each: the machine is shared and its load moves.
  let oursWriteS = Infinity;
  let rawWriteS = Infinity;
  let oursReadS = Infinity;
  let rawReadS = Infinity;
  for (let round = 0; round < 3; round++) {
    oursWriteS = Math.min(oursWriteS, await time(() => oursWrite(ours, Compression.GZIP, chunks)));
    rawWriteS = Math.min(rawWriteS, await time(() => rawGzipWrite(raw, chunks)));
    oursReadS = Math.min(oursReadS, await time(() => oursRead(ours, Compression.GZIP)));
    rawReadS = Math.min(rawReadS, await time(() => rawGzipRead(raw)));
  }
  const oursMBps = (2 * size) / MB / (oursWriteS + oursReadS);
  const rawMBps = (2 * size) / MB / (rawWriteS + rawReadS);
  report('io', 'gzip 100 MB write+read', {
    ours_MBps: round(oursMBps),
    peer: 'fs.createWriteStream + zlib.createGzip / createReadStream + createGunzip',
    peer_MBps: round(rawMBps),
    ratio: round(oursMBps / rawMBps),
    write_s: round(oursWriteS),
    peer_write_s: round(rawWriteS),
    read_s: round(oursReadS),
    peer_read_s: round(rawReadS),
  });
}

function check(lines: number, who: string): void {
  if (lines !== 1_000_000) throw new Error(`${who} read ${lines} lines, not 1000000`);
}

async function linesCase(dir: string): Promise<void> {
  const path = join(dir, 'lines.txt');
  const lines: string[] = [];
  for (let i = 0; i < 1_000_000; i++)
    lines.push(`${i} GET /api/items/${i % 977}?page=${i % 13} 200\n`);
  writeFileSync(path, lines.join(''));
  const counter: { seen: number } = { seen: 0 };
  const ours = async (): Promise<void> => {
    counter.seen = 0;
    const file = await asyncOpen(path, 'r');
    for await (const _line of file) counter.seen++;
    await file.close();
    check(counter.seen, 'asyncOpen');
  };
  const raw = async (): Promise<void> => {
    counter.seen = 0;
    const reader = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    for await (const _line of reader) counter.seen++;
    check(counter.seen, 'readline');
  };
  // Interleaved rounds, the best of each.
  let oursS = Infinity;
  let rawS = Infinity;
  for (let round = 0; round < 4; round++) {
    oursS = Math.min(oursS, await time(ours));
    rawS = Math.min(rawS, await time(raw));
  }
  report('io', '1M-line iteration', {
    ours_lines_per_s: Math.round(1_000_000 / oursS),
    peer: 'readline over fs.createReadStream',
    peer_lines_per_s: Math.round(1_000_000 / rawS),
    ratio: round(rawS / oursS),
  });
}

async function toolCase(
  dir: string,
  compression: Compression,
  tool: string,
  args: string[],
  megabytes: number,
): Promise<void> {
  const chunks = payload(megabytes);
  const size = chunks.length * CHUNK;
  const ours = join(dir, `ours.${tool}`);
  const theirs = join(dir, `theirs.${tool}`);
  let oursWriteS = Infinity;
  let toolWriteS = Infinity;
  let oursReadS = Infinity;
  let toolReadS = Infinity;
  for (let round = 0; round < 2; round++) {
    oursWriteS = Math.min(oursWriteS, await time(() => oursWrite(ours, compression, chunks)));
    toolWriteS = Math.min(
      toolWriteS,
      await time(() => toolWrite(tool, ['-c', ...args], theirs, chunks)),
    );
    oursReadS = Math.min(
      oursReadS,
      await time(async () => {
        if ((await oursRead(theirs, compression)) !== size) throw new Error(`${tool}: short read`);
      }),
    );
    toolReadS = Math.min(toolReadS, await time(() => toolRead(tool, ['-d', '-c'], ours)));
  }
  const oursMBps = (2 * size) / MB / (oursWriteS + oursReadS);
  const toolMBps = (2 * size) / MB / (toolWriteS + toolReadS);
  report('io', `${compression} ${megabytes} MB write+read`, {
    ours_MBps: round(oursMBps),
    peer: `${tool} ${['-c', ...args].join(' ')} / ${tool} -d -c, piped through a child process`,
    peer_MBps: round(toolMBps),
    ratio: round(oursMBps / toolMBps),
    write_MBps: round(size / MB / oursWriteS),
    peer_write_MBps: round(size / MB / toolWriteS),
    read_MBps: round(size / MB / oursReadS),
    peer_read_MBps: round(size / MB / toolReadS),
  });
}

/** Runs every io case once, printing one JSON line per case. */
export async function runIoBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aiomisc-io-bench-'));
  try {
    const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
    const wanted = (name: string): boolean =>
      only.length === 0 || only.some((part) => name.includes(part));
    if (wanted('gzip')) await gzipCase(dir);
    if (wanted('lines')) await linesCase(dir);
    if (wanted('bz2')) await toolCase(dir, Compression.BZ2, 'bzip2', ['-9'], 8);
    if (wanted('xz')) await toolCase(dir, Compression.LZMA, 'xz', ['-6', '-T1'], 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
