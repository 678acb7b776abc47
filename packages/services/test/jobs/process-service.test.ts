import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, setLoggerFactory, type Logger } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessService, ProcessStartError } from '../../src/index';
import {
  Blocker,
  BrokenInChild,
  Renamed,
  Sleeper,
  Stubborn,
  Suicide,
  Thrower,
} from './fixtures/process-services';

interface Line {
  name: string;
  level: string;
  message: string;
}
let lines: Line[] = [];
let restore: () => void;

beforeEach(() => {
  lines = [];
  restore = setLoggerFactory((name): Logger => {
    const write =
      (level: string) =>
      (first: unknown, second?: string): void => {
        lines.push({ name, level, message: typeof first === 'string' ? first : (second ?? '') });
      };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
    };
  });
});
afterEach(() => restore());

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('ProcessService', () => {
  it('runs inProcess() in a child with the options; its output reaches the log; stop ends it', async () => {
    const service = new Sleeper({ label: 'first' });
    await service.start();
    const pid = service.pid;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    await until(() => lines.some((line) => line.message.includes('sleeper')));
    expect(lines).toContainEqual({
      name: 'aiomisc.process.Sleeper',
      level: 'info',
      message: `sleeper ${pid} first child=true`,
    });
    await until(() => lines.some((line) => line.message === 'a line on stderr'));
    expect(lines.find((line) => line.message === 'a line on stderr')?.level).toBe('warn');
    expect(ProcessService.isChild).toBe(false);
    await service.stop();
    expect(alive(pid)).toBe(false);
    expect(service.pid).toBeUndefined();
    await service.stop();
  });

  it('stop() during start() leaves no child', async () => {
    const service = new Sleeper();
    const starting = service.start().then(
      () => 'started',
      (error: unknown) => (ProcessStartError.isInstance(error) ? 'rejected' : String(error)),
    );
    await until(() => service.pid !== undefined);
    const pid = service.pid;
    await service.stop();
    expect(['started', 'rejected']).toContain(await starting);
    expect(alive(pid)).toBe(false);
    expect(service.pid).toBeUndefined();
  });

  it('an inProcess() that throws ends the child with code 1, logged', async () => {
    const service = new Thrower();
    await service.start();
    await until(() => lines.some((line) => line.message === 'child exited with code 1'));
    const failure = lines.find((line) => line.message.includes('Thrower.inProcess() failed'));
    expect(failure?.level).toBe('warn');
    expect(failure?.message).toContain('the work failed');
    expect(service.pid).toBeUndefined();
    await service.stop();
  });

  it('SIGKILLs a child that ignores SIGTERM after processStopTimeout', async () => {
    const service = new Stubborn({ processStopTimeout: 300 });
    await service.start();
    await until(() => lines.some((line) => line.message.startsWith('stubborn')));
    const pid = service.pid;
    await service.stop();
    expect(alive(pid)).toBe(false);
    expect(lines.some((line) => line.message.includes('did not stop in time'))).toBe(true);
  });

  it('start() rejects when the child cannot build the service, leaving no child', async () => {
    const service = new BrokenInChild();
    const error = await service.start().catch((caught: unknown) => caught);
    expect(ProcessStartError.isInstance(error)).toBe(true);
    expect(String(error)).toContain('cannot be built here');
    expect(service.pid).toBeUndefined();
  });

  it('start() rejects when the export is not found under the class name', async () => {
    const service = new Renamed();
    const error = await service.start().catch((caught: unknown) => caught);
    expect(ProcessStartError.isInstance(error)).toBe(true);
    expect(String(error)).toContain('no export named Hidden');
  });

  it('rejects a class without static module and a negative processStopTimeout', () => {
    class Nowhere extends ProcessService {
      inProcess(): void {}
    }
    expect(() => new Nowhere()).toThrow(/Nowhere\.module/);
    expect(() => new Sleeper({ processStopTimeout: -1 })).toThrow(InvalidArgumentError);
  });

  it('no child outlives a parent killed by SIGKILL, even one blocking its main thread', async () => {
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/process-parent.ts', import.meta.url))],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pids = await new Promise<number[]>((resolve, reject) => {
      parent.once('exit', (code) => reject(new Error(`parent exited with ${code}`)));
      createInterface({ input: parent.stdout }).on('line', (line) => {
        if (line.startsWith('{')) resolve((JSON.parse(line) as { pids: number[] }).pids);
      });
    });
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    parent.kill('SIGKILL');
    await until(() => !pids.some(alive), 5000);
  });
});

describe('RespawningProcessService', () => {
  it('respawns a child after process.exit(42), after the pause', async () => {
    const service = new Suicide({ after: 100, respawnDelay: 100, quickFailureTime: 50 });
    await service.start();
    const first = service.pid;
    await until(() => service.respawns >= 2 && service.pid !== undefined && service.pid !== first);
    expect(lines.some((line) => line.message.includes('with code 42; respawning in 100 ms'))).toBe(
      true,
    );
    expect(lines.some((line) => line.message === 'Goodbye mad world')).toBe(true);
    const last = service.pid;
    await service.stop();
    expect(alive(first)).toBe(false);
    expect(alive(last)).toBe(false);
  });

  it('gives up after maxQuickFailures quick failures in a row, logged', async () => {
    const service = new Suicide({ after: 10, respawnDelay: 10, maxQuickFailures: 3 });
    await service.start();
    await until(() =>
      lines.some((line) => line.level === 'error' && line.message.includes('giving up')),
    );
    expect(service.respawns).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(service.respawns).toBe(2);
    expect(service.pid).toBeUndefined();
    await service.stop();
  });

  it('stop() during the respawn pause starts nothing more', async () => {
    const service = new Suicide({ after: 10, respawnDelay: 500 });
    await service.start();
    await until(() => lines.some((line) => line.message.includes('respawning in 500 ms')));
    await service.stop();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(service.respawns).toBe(0);
    expect(service.pid).toBeUndefined();
  });

  it('rejects bad respawn options, naming them', () => {
    expect(() => new Suicide({ respawnDelay: -1 })).toThrow(/respawnDelay/);
    expect(() => new Suicide({ maxQuickFailures: 0 })).toThrow(/maxQuickFailures/);
  });
});

void Blocker;
