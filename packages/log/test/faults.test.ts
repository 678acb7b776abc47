import { openSync, closeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { basicConfig, getLogger } from '../src/index';
import { runFixture, temporaryDirectory } from './helpers';

const fixture = join(import.meta.dirname, 'fixtures', 'faults.ts');
const reports = (stderr: string): string[] =>
  stderr.split('\n').filter((line) => line.startsWith('@aiomisc/log:'));

afterAll(() => {
  basicConfig({ logFormat: 'disabled', buffered: false });
});

describe('a buffered worker whose destination cannot be opened', () => {
  it('flush() resolves after a record was logged, and the failure is reported once', async () => {
    const result = await runFixture(fixture, ['bad-dir-flush', temporaryDirectory()]);
    expect(result.stdout).toBe('flushed\n');
    expect(result.code).toBe(0);
    expect(reports(result.stderr)).toEqual([
      expect.stringMatching(
        /^@aiomisc\/log: cannot open the log destination .*app\.log \(.*\); its records are dropped$/,
      ),
    ]);
  }, 30_000);

  it('flush() resolves when no record was logged, also for a caller that does not await it', async () => {
    const result = await runFixture(fixture, ['bad-dir-idle', temporaryDirectory()]);
    expect(result.stdout).toBe('flushed\n');
    expect(result.code).toBe(0);
  }, 30_000);

  it('a SIGTERM before the failure is noticed still stops the entrypoint', async () => {
    let signalled = false;
    const result = await runFixture(fixture, ['bad-dir-sigterm', temporaryDirectory()], {
      onStdout: (stdout, child) => {
        if (!signalled && stdout.includes('ready\n')) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(result.stdout).toBe('ready\nstop ran\n');
    expect(result.code).toBe(0);
  }, 30_000);
});

describe('write errors never take the process down', () => {
  it('unbuffered to 2>/dev/full: logging does not throw and SIGTERM still runs stop()', async () => {
    const full = openSync('/dev/full', 'w');
    let signalled = false;
    try {
      const result = await runFixture(fixture, ['sigterm-unbuffered'], {
        stdio: ['ignore', 'pipe', full],
        onStdout: (stdout, child) => {
          if (!signalled && stdout.includes('ready\n')) {
            signalled = true;
            child.kill('SIGTERM');
          }
        },
      });
      expect(result.stdout).toBe('ready\nstop ran\n');
      expect(result.code).toBe(0);
    } finally {
      closeSync(full);
    }
  }, 30_000);

  it('unbuffered to a stderr pipe whose reader is gone (EPIPE): every call returns', async () => {
    const result = await runFixture(fixture, ['many-unbuffered'], {
      onSpawn: (child) => child.stderr?.destroy(),
    });
    expect(result.stdout).toMatch(/^done in \d+ ms\n$/);
    expect(result.code).toBe(0);
  }, 30_000);

  it('unbuffered to a stderr pipe that fills up runs at the reader speed, not 100 ms a full pipe', async () => {
    // sonic-boom sleeps 100 ms whenever the non-blocking pipe is full: about 4,000 lines/s here,
    // so 100,000 lines took 25 s; the bound below leaves a loaded machine ample room.
    // The reader takes a 2 ms break after every chunk, as a busy log collector would: the pipe
    // is full again and again.
    const result = await runFixture(fixture, ['many-unbuffered', '100000'], {
      onSpawn: (child) => {
        const stderr = child.stderr!;
        stderr.on('data', () => {
          stderr.pause();
          setTimeout(() => stderr.resume(), 2);
        });
      },
    });
    expect(result.code).toBe(0);
    const ms = Number(/^done in (\d+) ms$/.exec(result.stdout.trim())?.[1]);
    expect(ms).toBeLessThan(12_000);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('{')).length).toBe(100_000);
  }, 60_000);

  it('a handler whose write throws: the call does not throw, the next handler gets the record, one report', async () => {
    const result = await runFixture(fixture, ['handler-throws']);
    expect(result.stdout).toBe('second handler got 2\n');
    expect(result.code).toBe(0);
    expect(reports(result.stderr)).toEqual([
      expect.stringContaining('a log handler threw (handler broke)'),
    ]);
  }, 30_000);

  it('in this process too: a throwing handler before a collecting one', () => {
    const seen: string[] = [];
    const failing = {
      write: () => {
        throw new Error('handler broke');
      },
    };
    basicConfig({
      logFormat: 'disabled',
      buffered: false,
      handlers: [failing, { write: (line: string) => seen.push(line) }],
    });
    expect(() => getLogger('faults').info('one')).not.toThrow();
    expect(() => getLogger('faults').error('two')).not.toThrow();
    expect(seen.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['one', 'two']);
  });

  it('buffered to a full disk: reported once on stderr, then it keeps going', async () => {
    const result = await runFixture(fixture, ['full-disk-buffered']);
    expect(result.stdout).toBe('still running\n');
    expect(result.code).toBe(0);
    expect(reports(result.stderr)).toEqual([
      expect.stringMatching(
        /^@aiomisc\/log: writing log records to \/dev\/full failed \(ENOSPC.*\); those records are lost, later ones are still written \(reported once\)$/,
      ),
    ]);
  }, 30_000);

  it('flush() stops waiting for a destination that takes no data for drainTimeout, and says so', async () => {
    let lines = 0;
    let pipe: Readable | undefined;
    let stdin: Writable | undefined;
    const result = await runFixture(fixture, ['flush-stalled'], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      onSpawn: (child) => {
        stdin = child.stdin!;
        pipe = child.stdio[3] as Readable;
        pipe.on('data', (chunk: Buffer) => {
          for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1))
            lines++;
        });
        pipe.pause();
      },
      onStdout: (stdout) => {
        if (stdout.includes('flushed\n') && pipe?.isPaused()) {
          pipe.resume();
          stdin?.end('read again\n');
        }
      },
    });
    expect(result.stdout).toBe('flushed\n');
    expect(result.code).toBe(0);
    expect(reports(result.stderr)).toEqual([
      expect.stringMatching(
        /^@aiomisc\/log: flush\(\) stopped waiting: \d+ log lines are still waiting for a destination that took no data for 500 ms \(drainTimeout\)$/,
      ),
    ]);
    // once the reader reads again, the exit writes the rest
    expect(lines).toBe(200_000);
  }, 60_000);

  it('after flush() gave up on a stalled destination, the exit does not wait for it again', async () => {
    let flushedAt = 0;
    let exitedAt = 0;
    const result = await runFixture(fixture, ['flush-stalled-exit'], {
      onSpawn: (child) => {
        child.stdout!.on('data', () => undefined);
        child.stdout!.pause();
        child.stderr!.on('data', (chunk: Buffer) => {
          if (flushedAt === 0 && chunk.includes('flushed\n')) flushedAt = Date.now();
        });
        child.on('exit', () => {
          exitedAt = Date.now();
          child.stdout!.resume(); // lets the pipe end, so that the child's 'close' comes
        });
      },
    });
    expect(result.code).toBe(0);
    expect(flushedAt).toBeGreaterThan(0);
    // a second wait would be drainTimeout (3000 ms) at least
    expect(exitedAt - flushedAt).toBeLessThan(2500);
    expect(result.stderr).toMatch(/@aiomisc\/log: \d+ log lines were not written at exit/);
  }, 60_000);
});
