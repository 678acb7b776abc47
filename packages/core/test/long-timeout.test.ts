import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { MAX_TIMER_DELAY, setLongTimeout, sleep } from '../src/index';

describe('setLongTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires a 30-day timer after 30 days, not after 1 ms', async () => {
    const day = 24 * 3600_000;
    const fired = vi.fn();
    setLongTimeout(fired, 30 * day);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY);
    expect(fired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(30 * day - MAX_TIMER_DELAY - 1);
    expect(fired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('fires exactly at 2^31 ms', async () => {
    const fired = vi.fn();
    setLongTimeout(fired, 2 ** 31);
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(fired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('fires a zero, negative or NaN delay on the next timer turn', async () => {
    const fired = vi.fn();
    setLongTimeout(fired, 0);
    setLongTimeout(fired, -5);
    setLongTimeout(fired, Number.NaN);
    expect(fired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toHaveBeenCalledTimes(3);
  });

  it('never fires an infinite delay, and clear() cancels a chained one', async () => {
    const fired = vi.fn();
    const forever = setLongTimeout(fired, Infinity);
    const cleared = setLongTimeout(fired, 3 * MAX_TIMER_DELAY);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY + 10);
    cleared.clear();
    await vi.advanceTimersByTimeAsync(4 * MAX_TIMER_DELAY);
    expect(fired).not.toHaveBeenCalled();
    expect(forever.hasRef()).toBe(true);
    forever.clear();
    expect(forever.hasRef()).toBe(false);
  });

  it('keeps unref() across the links of the chain', async () => {
    const timer = setLongTimeout(() => {}, 2 * MAX_TIMER_DELAY).unref();
    expect(timer.hasRef()).toBe(false);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY + 1);
    expect(timer.hasRef()).toBe(false);
    timer.ref();
    expect(timer.hasRef()).toBe(true);
    timer.clear();
  });

  it('lets sleep() wait longer than 2^31 ms', async () => {
    let done = false;
    void sleep(2 ** 32).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(done).toBe(true);
  });
});
