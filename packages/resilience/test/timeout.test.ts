import { InvalidArgumentError } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { timeout, TimeoutError } from '../src/index';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('timeout', () => {
  it('rejects with TimeoutError after ms and aborts the signal with the same error', async () => {
    let received: AbortSignal | undefined;
    const slow = timeout(100)(
      (signal) =>
        new Promise<string>((resolve) => {
          received = signal;
          setTimeout(() => resolve('late'), 1000);
        }),
    );
    const result = slow().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(99);
    expect(received?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await result;
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect(received?.aborted).toBe(true);
    expect(received?.reason).toBe(error);
  });

  it('resolves with the value when the function is faster, clearing its timer', async () => {
    const add = timeout(100)(async (_signal, a: number, b: number) => a + b);
    await expect(add(2, 3)).resolves.toBe(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes rejections and synchronous throws through', async () => {
    const boom = new RangeError('boom');
    await expect(timeout(100)(() => Promise.reject(boom))()).rejects.toBe(boom);
    await expect(
      timeout(100)(() => {
        throw boom;
      })(),
    ).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails at once with timeout(0) without calling the function', async () => {
    const fn = vi.fn(async () => 1);
    const error: unknown = await timeout(0)(fn)().catch((e: unknown) => e);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects a negative or non-numeric limit, naming it', () => {
    for (const bad of [-1, Number.NaN, '1' as unknown as number]) {
      let error: unknown;
      try {
        timeout(bad);
      } catch (e) {
        error = e;
      }
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe('ms');
    }
  });

  it('rejects a non-function to wrap', () => {
    expect(() => timeout(10)(42 as never)).toThrow(InvalidArgumentError);
  });
});
