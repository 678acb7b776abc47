import { getEventListeners } from 'node:events';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { aggregate, asyncbackoff, asyncretry } from '../src/index';

describe('aggregate with aborted callers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('clears the leeway timer when every caller of a collecting batch aborts', async () => {
    const batch = vi.fn(async (_signal: AbortSignal, ...values: number[]) => values);
    const aggregated = aggregate({ leewayMs: 60_000 })(batch);
    const first = new AbortController();
    const second = new AbortController();
    const calls = [
      aggregated(1, { signal: first.signal }),
      aggregated(2, { signal: second.signal }),
    ];
    for (const call of calls) call.catch(() => {});
    expect(vi.getTimerCount()).toBe(1);
    first.abort(new Error('first left'));
    expect(vi.getTimerCount()).toBe(1);
    second.abort(new Error('second left'));
    expect(vi.getTimerCount()).toBe(0);
    await expect(calls[1]).rejects.toThrow('second left');
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(0);
    // The next call starts a fresh batch that runs.
    const next = aggregated(3);
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(next).resolves.toBe(3);
    expect(batch).toHaveBeenCalledOnce();
  });

  it('adds one listener per batch to a signal shared by many calls', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const aggregated = aggregate({ leewayMs: 10 })(
        async (_signal, ...values: number[]) => values,
      );
      const shared = new AbortController().signal;
      const calls = Array.from({ length: 50 }, (_, index) => aggregated(index, { signal: shared }));
      expect(getEventListeners(shared, 'abort')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(10);
      expect(await Promise.all(calls)).toHaveLength(50);
      expect(getEventListeners(shared, 'abort')).toHaveLength(0);
      await new Promise((resolve) => process.nextTick(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual(
        [],
      );
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('aborting a shared signal rejects every call of the batch that used it', async () => {
    const aggregated = aggregate({ leewayMs: 10 })(async (_signal, ...values: number[]) => values);
    const controller = new AbortController();
    const shared = [
      aggregated(1, { signal: controller.signal }),
      aggregated(2, { signal: controller.signal }),
    ];
    const free = aggregated(3);
    controller.abort(new Error('gone'));
    await expect(Promise.allSettled(shared)).resolves.toMatchObject([
      { status: 'rejected' },
      { status: 'rejected' },
    ]);
    await vi.advanceTimersByTimeAsync(10);
    await expect(free).resolves.toBe(3);
  });
});

describe('untimed retries and the signal they pass', () => {
  it('does not let listeners left on the never-aborted signal pile up across calls', async () => {
    const seen = new Set<AbortSignal>();
    const leave = (signal: AbortSignal) => {
      signal.addEventListener('abort', () => {});
      seen.add(signal);
      return 1;
    };
    const retried = asyncretry(3)(async (signal) => leave(signal));
    const backedOff = asyncbackoff({})(async (signal) => leave(signal));
    for (let i = 0; i < 1000; i++) {
      await retried();
      await backedOff();
    }
    const counts = [...seen].map((signal) => getEventListeners(signal, 'abort').length);
    expect(Math.max(...counts)).toBeLessThanOrEqual(256);
    expect(seen.size).toBeGreaterThanOrEqual(2000 / 256);
    expect([...seen].some((signal) => signal.aborted)).toBe(false);
  });

  it('gives one signal to every attempt of one call', async () => {
    const seen: AbortSignal[] = [];
    let failures = 2;
    await asyncretry(3)(async (signal) => {
      seen.push(signal);
      if (failures-- > 0) throw new Error('again');
    })();
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]!.aborted).toBe(false);
  });
});
