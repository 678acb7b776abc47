import { entrypoint, InvalidArgumentError, RequiredOptionsError } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeriodicService, type PeriodicServiceOptions } from '../../src/index';

class Counter extends PeriodicService<PeriodicServiceOptions & { work?: number }> {
  calls = 0;
  active = 0;
  maxActive = 0;
  aborted = 0;
  async callback(signal: AbortSignal): Promise<void> {
    this.calls++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const work = this.options.work ?? 0;
      if (work > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, work);
          signal.addEventListener('abort', () => {
            this.aborted++;
            clearTimeout(timer);
            resolve();
          });
        });
      }
    } finally {
      this.active--;
    }
  }
}

describe('PeriodicService', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs callback() every interval after the delay', async () => {
    const service = new Counter({ interval: 100, delay: 250 });
    await service.start();
    await vi.advanceTimersByTimeAsync(249);
    expect(service.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(service.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(service.calls).toBe(4);
    await service.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(service.calls).toBe(4);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never overlaps runs: a slow run pushes the next back', async () => {
    const service = new Counter({ interval: 10, work: 50 });
    await service.start();
    await vi.advanceTimersByTimeAsync(590);
    expect(service.maxActive).toBe(1);
    // every 60 ms (50 of work + 10 of interval), starting at 0
    expect(service.calls).toBe(10);
    await service.stop();
  });

  it('with fixedRate, runs start every interval and a slow run makes the overlapped ones skipped', async () => {
    const service = new Counter({ interval: 20, work: 50, fixedRate: true });
    await service.start();
    await vi.advanceTimersByTimeAsync(590);
    expect(service.maxActive).toBe(1);
    // due every 20 ms; a run takes 50, so it starts at 0, 60, 120, ... (the two in between skipped)
    expect(service.calls).toBe(10);
    await service.stop();
    const quick = new Counter({ interval: 20, work: 5, fixedRate: true });
    await quick.start();
    await vi.advanceTimersByTimeAsync(590);
    expect(quick.calls).toBe(30); // 0, 20, ..., 580: the run time does not push them back
    await quick.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop() waits for a run in flight and aborts its signal; a second stop is a no-op', async () => {
    const service = new Counter({ interval: 10, work: 10_000 });
    await service.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(service.active).toBe(1);
    await service.stop();
    expect(service.active).toBe(0);
    expect(service.aborted).toBe(1);
    await service.stop();
  });

  it('with shield, stop() lets the run finish instead of aborting it', async () => {
    const service = new Counter({ interval: 10, work: 500, shield: true });
    await service.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(service.active).toBe(1);
    let stopped = false;
    const stopping = service.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(498);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(service.aborted).toBe(0);
  });

  it('keeps going after a callback that throws', async () => {
    class Failing extends PeriodicService {
      calls = 0;
      async callback(): Promise<void> {
        this.calls++;
        throw new Error('boom');
      }
    }
    const service = new Failing({ interval: 100, suppressExceptions: [Error] });
    await service.start();
    await vi.advanceTimersByTimeAsync(250);
    expect(service.calls).toBe(3);
    await service.stop();
  });

  it('takes a delay of 2^31 ms and more without firing early', async () => {
    const service = new Counter({ interval: 1000, delay: 2 ** 31 + 5000 });
    await service.start();
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(service.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(service.calls).toBe(1);
    await service.stop();
  });

  it('rejects interval 0, a negative delay and a missing interval, naming the option', () => {
    const bad = (options: unknown, argument: string) => {
      try {
        new Counter(options as PeriodicServiceOptions);
        expect.unreachable();
      } catch (error) {
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        expect((error as InvalidArgumentError).argument).toBe(argument);
        expect((error as Error).message).toContain(argument);
      }
    };
    bad({ interval: 0 }, 'interval');
    bad({ interval: -5 }, 'interval');
    bad({ interval: Number.NaN }, 'interval');
    bad({ interval: 10, delay: -1 }, 'delay');
    bad({ interval: 10, fixedRate: 'yes' }, 'fixedRate');
    expect(() => new Counter({} as PeriodicServiceOptions)).toThrow(RequiredOptionsError);
  });

  it('reads a subclass default interval', async () => {
    class Defaulted extends PeriodicService {
      static override defaults = { interval: 50 };
      calls = 0;
      async callback(): Promise<void> {
        this.calls++;
      }
    }
    const service = new Defaulted({} as PeriodicServiceOptions);
    expect(String(service)).toBe('Defaulted(interval=50,delay=0)');
    await service.start();
    await vi.advanceTimersByTimeAsync(120);
    expect(service.calls).toBe(3);
    await service.stop();
  });
});

describe('PeriodicService under an entrypoint', () => {
  it('starts and stops with the entrypoint, waiting for the run in flight', async () => {
    const service = new Counter({ interval: 5, work: 30, shield: true });
    const ep = entrypoint({ services: [service], catchSignals: [] });
    await ep.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await ep.stop();
    expect(service.calls).toBeGreaterThan(0);
    expect(service.active).toBe(0);
  });
});
