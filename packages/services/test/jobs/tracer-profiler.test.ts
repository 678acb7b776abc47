import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, setLoggerFactory, type Logger } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryTracer, Profiler, type CpuProfile } from '../../src/index';

let records: { name: string; message: string }[] = [];
let restore: () => void;
beforeEach(() => {
  records = [];
  restore = setLoggerFactory((name): Logger => {
    const write = (first: unknown, second?: string) =>
      void records.push({ name, message: typeof first === 'string' ? first : (second ?? '') });
    return { debug: write, info: write, warn: write, error: write };
  });
});
afterEach(() => restore());

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const leaking: Buffer[] = [];
function leakSome(): void {
  for (let index = 0; index < 2000; index++) leaking.push(Buffer.from(`x`.repeat(512)));
}

describe('MemoryTracer', () => {
  it('logs a table of the top allocation sites with their growth, every interval', async () => {
    const tracer = new MemoryTracer({ interval: 200, topResults: 5, samplingInterval: 1024 });
    await tracer.start();
    const timer = setInterval(leakSome, 20);
    try {
      await until(
        () => records.filter((record) => record.message.startsWith('Top memory')).length >= 2,
      );
    } finally {
      clearInterval(timer);
      await tracer.stop();
      leaking.length = 0;
    }
    const table = records.find((record) => record.message.startsWith('Top memory'))!;
    expect(table.name).toBe('aiomisc.service.tracer');
    const lines = table.message.split('\n');
    expect(lines[1]).toBe(' Objects | Obj.Diff |   Memory | Mem.Diff | Traceback');
    const rows = lines.slice(2);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(5);
    for (const row of rows) {
      expect(row).toMatch(/^ +\d+ \| +-?\d+ \| +[\d.]+[KMG]?i?B \| +-?[\d.]+[KMG]?i?B \| .+$/);
    }
    expect(table.message).toContain('tracer-profiler.test.ts');
    await tracer.stop();
  });

  it('rejects interval 0 and a fractional topResults, naming them', () => {
    expect(() => new MemoryTracer({ interval: 0 })).toThrow(InvalidArgumentError);
    expect(() => new MemoryTracer({ topResults: 1.5 })).toThrow(/topResults/);
  });
});

function busy(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

describe('Profiler', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'profiler-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('logs the top functions and writes a .cpuprofile with nodes, samples and timeDeltas', async () => {
    const path = join(dir, 'app.cpuprofile');
    const profiler = new Profiler({ interval: 300, topResults: 5, path, samplingInterval: 200 });
    await profiler.start();
    const timer = setInterval(() => busy(30), 40);
    try {
      await until(() => records.some((record) => record.message.includes('Ordered by')));
      await until(() => {
        try {
          readFileSync(path);
          return true;
        } catch {
          return false;
        }
      });
    } finally {
      clearInterval(timer);
      await profiler.stop();
    }
    const report = records.find((record) => record.message.includes('Ordered by'))!.message;
    expect(report).toMatch(/^\d+ samples in \d+ ms/);
    expect(report).toContain('Ordered by: cumulative time');
    expect(report).toContain('  self ms | total ms | function');
    expect(report).toContain('(busy)');
    const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
    expect(Array.isArray(profile.nodes)).toBe(true);
    expect(profile.nodes[0]?.callFrame.functionName).toBe('(root)');
    expect(profile.samples.length).toBeGreaterThan(0);
    expect(profile.timeDeltas.length).toBe(profile.samples.length);
    expect(typeof profile.startTime).toBe('number');
    expect(profile.endTime).toBeGreaterThan(profile.startTime);
    await profiler.stop();
  });

  it('orders by self time on request', async () => {
    const profiler = new Profiler({ interval: 60_000, order: 'self', samplingInterval: 200 });
    await profiler.start();
    busy(150);
    const profile = await profiler.rotate();
    await profiler.stop();
    expect(profile.samples.length).toBeGreaterThan(0);
    const report = records.find((record) => record.message.includes('Ordered by'))!.message;
    expect(report).toContain('Ordered by: self time');
    const selfTimes = report
      .split('\n')
      .filter((line) => /^ +[\d.]+ \|/.test(line))
      .map((line) => Number(line.split('|')[0]));
    expect(selfTimes.length).toBeGreaterThan(1);
    expect(selfTimes).toEqual([...selfTimes].sort((a, b) => b - a));
  });

  it('rejects a bad order, naming it', () => {
    expect(() => new Profiler({ order: 'random' as 'self' })).toThrow(/order/);
  });
});

describe('InspectorSampler (what MemoryTracer and Profiler share)', () => {
  it('a setup command that fails disconnects the session and starts no reports', async () => {
    const { InspectorSampler } = await import('../../src/jobs/inspector-sampler');
    const { InspectorSession } = await import('../../src/jobs/inspector-session');
    const disconnect = vi.spyOn(InspectorSession.prototype, 'disconnect');
    let reports = 0;
    try {
      await expect(
        InspectorSampler.open(
          'bad-setup',
          [['Profiler.enable'], ['Nope.nothing']],
          10,
          async () => {
            reports++;
          },
        ),
      ).rejects.toThrow(/Nope\.nothing/);
      expect(disconnect).toHaveBeenCalledTimes(1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(reports).toBe(0);
    } finally {
      disconnect.mockRestore();
    }
  });
});
