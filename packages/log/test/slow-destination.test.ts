import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';

const fixture = join(import.meta.dirname, 'fixtures', 'pipe-flood.ts');
const count = 200_000;

interface Run {
  code: number | null;
  /** ms from spawn until the child exited. */
  exitedAfter: number;
  /** The records that arrived through the slow pipe, by index. */
  distinct: number;
  lines: number;
  /** Lines that were not whole JSON records. */
  broken: number;
  /** What arrived on the other (fast) output. */
  other: string;
}

/**
 * Runs the fixture with its log destination (`fd` 2 or 1) on a pipe this process does not read
 * for `pauseMs` after the child logged its last record, then reads everything; the other output
 * is read at once.
 */
function runSlowReader(args: string[], fd: 1 | 2, pauseMs: number): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined, JOURNAL_STREAM: undefined },
  });
  const slow = (fd === 2 ? child.stderr : child.stdout) as Readable;
  const fast = (fd === 2 ? child.stdout : child.stderr) as Readable;
  let other = '';
  fast.setEncoding('utf8').on('data', (chunk: string) => (other += chunk));
  // The pause starts once the child says it has logged everything (fd 3), so it is the exit
  // path alone that has to wait for the reader, however slowly the child started.
  let timer: NodeJS.Timeout | undefined;
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', () => {
    timer ??= setTimeout(() => slow.resume(), pauseMs);
  });
  const seen = new Set<number>();
  let lines = 0;
  let broken = 0;
  let partial = '';
  // A 'data' listener first, then pause(): Node's child_process would otherwise resume (and
  // discard) a pipe nobody listens to when the child exits.
  slow.setEncoding('utf8').on('data', (chunk: string) => {
    const text = partial + chunk;
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines++;
      try {
        const record = JSON.parse(line) as { name?: string; i?: number };
        if (record.name === 'flood') seen.add(record.i!);
      } catch {
        broken++;
      }
    }
  });
  slow.pause();
  let exitedAfter = -1;
  child.on('exit', () => (exitedAfter = Date.now() - started));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      slow.resume();
      if (partial !== '') broken++;
      resolve({ code, exitedAfter, distinct: seen.size, lines, broken, other });
    });
  });
}

describe('buffered mode and a destination that drains slowly', () => {
  it.concurrent.each([
    ['returns', 'return', 0],
    ['calls process.exit()', 'exit', 0],
    ['throws an uncaught error', 'throw', 1],
  ] as const)(
    'delivers all 200,000 records intact to a stderr pipe read only after 12 s when the script %s',
    async (_, mode, code) => {
      const run = await runSlowReader([mode, String(count)], 2, 12_000);
      expect(run.code).toBe(code);
      expect(run.distinct).toBe(count);
      // the uncaught error adds Node's own stack lines to stderr, which are not JSON
      if (mode !== 'throw') expect(run.broken).toBe(0);
      expect(run.exitedAfter).toBeGreaterThan(12_000);
    },
    120_000,
  );

  it('gives up after drainTimeout without progress and says on stderr how many lines were lost', async () => {
    const run = await runSlowReader(['return', String(count), '1', '1000'], 1, 9_000);
    expect(run.code).toBe(0);
    // it did not wait for the reader: it stopped about a second after the pipe filled up
    expect(run.exitedAfter).toBeLessThan(8_000);
    const match =
      /@aiomisc\/log: (\d+) log lines were not written at exit: the destination took no data for 1000 ms \(drainTimeout\)/.exec(
        run.other,
      );
    expect(match, run.other).not.toBeNull();
    const lost = Number(match![1]);
    expect(lost).toBeGreaterThan(0);
    expect(run.distinct + lost).toBe(count);
    expect(run.other.match(/@aiomisc\/log:/g)).toHaveLength(1);
  }, 60_000);
});
