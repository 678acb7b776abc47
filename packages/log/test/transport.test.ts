import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BufferedDestination } from '../src/transport';
import { readLines, temporaryDirectory } from './helpers';

const line = (msg: string, level = 30): string =>
  `${JSON.stringify({ level, time: 0, name: 'w', msg })}\n`;

function destination(
  path: string,
  bufferSize: number,
  flushInterval: number,
  plain = false,
): BufferedDestination {
  return new BufferedDestination({
    lineFormat: plain ? { format: 'plain', dateFormat: null, colorize: false } : null,
    destination: path,
    syslog: null,
    bufferSize,
    flushInterval,
  });
}

async function ended(out: BufferedDestination): Promise<void> {
  const closed = new Promise((resolve) => out.once('close', resolve));
  out.end();
  await closed;
}

const lines = (path: string): string[] => (existsSync(path) ? readLines(path) : []);

describe('BufferedDestination (the transport worker)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps records until flushInterval has passed since the first one', async () => {
    vi.useFakeTimers();
    const path = join(temporaryDirectory(), 'a.log');
    const out = destination(path, 100, 200);
    out.write(line('one'));
    await vi.advanceTimersByTimeAsync(150);
    out.write(line('two'));
    await vi.advanceTimersByTimeAsync(49);
    await out.settled();
    expect(lines(path)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await out.settled();
    expect(lines(path).map((text) => (JSON.parse(text) as { msg: string }).msg)).toEqual([
      'one',
      'two',
    ]);
    await ended(out);
  });

  it('writes as soon as bufferSize records are waiting', async () => {
    vi.useFakeTimers();
    const path = join(temporaryDirectory(), 'b.log');
    const out = destination(path, 3, 60_000, true);
    out.write(line('1') + line('2'));
    await out.settled();
    expect(lines(path)).toEqual([]);
    out.write(line('3'));
    await out.settled();
    expect(lines(path)).toEqual(['1', '2', '3']);
    await ended(out);
  });

  it('joins a record split across chunks and writes everything on flush() and end()', async () => {
    const path = join(temporaryDirectory(), 'c.log');
    const out = destination(path, 1000, 60_000, true);
    const text = line('split record');
    out.write(text.slice(0, 10));
    out.write(text.slice(10) + line('next'));
    await new Promise<void>((resolve, reject) =>
      out.flush((error) => (error ? reject(error) : resolve())),
    );
    expect(lines(path)).toEqual(['split record', 'next']);
    out.write(line('last'));
    const closed = new Promise((resolve) => out.once('close', resolve));
    out.end();
    await closed;
    expect(lines(path)).toEqual(['split record', 'next', 'last']);
  });
});

describe('BufferedDestination timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('honours a flushInterval of 2^31 ms or more instead of writing after 1 ms', async () => {
    vi.useFakeTimers();
    const path = join(temporaryDirectory(), 'long.log');
    const out = destination(path, 1000, 2 ** 31 + 5, true);
    out.write(line('kept'));
    await vi.advanceTimersByTimeAsync(100);
    await out.settled();
    expect(lines(path)).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 ** 31 + 5);
    await out.settled();
    expect(lines(path)).toEqual(['kept']);
    await ended(out);
  });

  it('writes every record at once with a flushInterval of 0', async () => {
    const path = join(temporaryDirectory(), 'zero.log');
    const out = destination(path, 1000, 0, true);
    out.write(line('now'));
    await out.settled();
    expect(lines(path)).toEqual(['now']);
    await ended(out);
  });
});
