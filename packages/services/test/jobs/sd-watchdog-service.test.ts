import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { entrypoint, InvalidArgumentError, setLoggerFactory, type Logger } from '@aiomisc/core';
import { systemCommand } from '@aiomisc/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SDWatchdogService } from '../../src/index';

const hasPython = systemCommand('python3', { install: 'apt-get install python3' });
const hasNotify = systemCommand('systemd-notify', { install: 'apt-get install systemd' });
const listenerScript = fileURLToPath(new URL('./fixtures/notify-listener.py', import.meta.url));

interface Listener {
  path: string;
  messages: string[];
  process: ChildProcess;
}

async function listen(path: string): Promise<Listener> {
  const child = spawn('python3', ['-u', listenerScript, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: string[] = [];
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'listening') resolve();
      else if (line !== 'BARRIER=1') messages.push(line);
    });
  });
  return { path, messages, process: child };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!hasPython)('SDWatchdogService', () => {
  let dir: string;
  let listener: Listener | undefined;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sdnotify-'));
  });
  afterEach(() => {
    listener?.process.kill();
    listener = undefined;
    rmSync(dir, { recursive: true, force: true });
    process.env.NOTIFY_SOCKET = saved.NOTIFY_SOCKET;
    process.env.WATCHDOG_USEC = saved.WATCHDOG_USEC;
    if (saved.NOTIFY_SOCKET === undefined) delete process.env.NOTIFY_SOCKET;
    if (saved.WATCHDOG_USEC === undefined) delete process.env.WATCHDOG_USEC;
  });

  const senders: ('python3' | 'systemd-notify')[] = [
    'python3',
    ...(hasNotify ? (['systemd-notify'] as const) : []),
  ];
  for (const sender of senders) {
    it(`sends STATUS, READY=1, WATCHDOG=1 at half WATCHDOG_USEC and STOPPING=1 in order (${sender})`, async () => {
      listener = await listen(join(dir, 'notify.sock'));
      process.env.NOTIFY_SOCKET = listener.path;
      process.env.WATCHDOG_USEC = '400000'; // 400 ms: a ping every 200 ms
      const processes = () =>
        process.getActiveResourcesInfo().filter((name) => name === 'ProcessWrap').length;
      const before = processes();
      const service = new SDWatchdogService({ sender });
      const ep = entrypoint({ services: [service], catchSignals: [] });
      await ep.start();
      expect(service.isActive).toBe(true);
      await until(() => listener!.messages.filter((line) => line === 'WATCHDOG=1').length >= 2);
      await ep.stop();
      await until(() => listener!.messages.includes('STOPPING=1'));
      await until(() => processes() === before, 2000); // no helper left behind
      const messages = listener.messages;
      const pings = messages.filter((line) => line === 'WATCHDOG=1').length;
      expect(messages.filter((line) => line !== 'WATCHDOG=1')).toEqual([
        'STATUS=Starting',
        'STATUS=Started 1 services',
        'READY=1',
        'STATUS=Stopping 1 services',
        'STOPPING=1',
      ]);
      expect(pings).toBeGreaterThanOrEqual(2);
      const ready = messages.indexOf('READY=1');
      const stopping = messages.indexOf('STOPPING=1');
      expect(messages.indexOf('WATCHDOG=1')).toBeGreaterThan(ready);
      expect(messages.lastIndexOf('WATCHDOG=1')).toBeLessThan(stopping);
      // no ping after stop
      const count = messages.length;
      await new Promise((resolve) => setTimeout(resolve, 450));
      expect(listener.messages.length).toBe(count);
    });
  }

  it('sends WATCHDOG_USEC when watchdogInterval differs from the environment', async () => {
    listener = await listen(join(dir, 'notify.sock'));
    const service = new SDWatchdogService({ notifySocket: listener.path, watchdogInterval: 300 });
    await service.start();
    await until(() => listener!.messages.includes('WATCHDOG=1'));
    await service.stop();
    await until(() => listener!.messages.includes('STOPPING=1'));
    expect(listener.messages.slice(0, 3)).toEqual([
      'STATUS=Starting',
      'READY=1',
      'WATCHDOG_USEC=300000',
    ]);
  });

  it('is silently inactive without NOTIFY_SOCKET: one debug line, nothing else', async () => {
    delete process.env.NOTIFY_SOCKET;
    const records: { level: string; message: string }[] = [];
    const restore = setLoggerFactory((): Logger => {
      const write = (level: string) => (first: unknown, second?: string) =>
        void records.push({ level, message: typeof first === 'string' ? first : (second ?? '') });
      return {
        debug: write('debug'),
        info: write('info'),
        warn: write('warn'),
        error: write('error'),
      };
    });
    try {
      const service = new SDWatchdogService({ watchdogInterval: 100 });
      await service.start();
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(service.isActive).toBe(false);
      await service.stop();
      await service.stop();
      expect(records).toEqual([
        {
          level: 'debug',
          message: 'NOTIFY_SOCKET is not set: not running under systemd, watchdog inactive',
        },
      ]);
    } finally {
      restore();
    }
  });

  it('rejects a bad watchdogInterval and sender, naming them', () => {
    expect(() => new SDWatchdogService({ watchdogInterval: 0 })).toThrow(/watchdogInterval/);
    expect(() => new SDWatchdogService({ sender: 'carrier-pigeon' as 'python3' })).toThrow(
      InvalidArgumentError,
    );
  });
});
