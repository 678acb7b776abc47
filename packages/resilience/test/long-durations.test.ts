import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  aggregate,
  asyncbackoff,
  CircuitBreaker,
  CircuitBreakerStates,
  timeout,
  TimeoutError,
} from '../src/index';

const LONG = 2 ** 31; // Node's setTimeout would fire this after 1 ms
const day = 24 * 3600_000;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function settled(promise: Promise<unknown>): { done: boolean; error: unknown } {
  const state = { done: false, error: undefined as unknown };
  promise.then(
    () => (state.done = true),
    (error: unknown) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
}

describe('durations of 2^31 ms and more', () => {
  it('timeout(2 ** 31) fires after 2^31 ms, not after 2 ms', async () => {
    const call = settled(timeout(LONG)(() => new Promise(() => {}))());
    await vi.advanceTimersByTimeAsync(1000);
    expect(call.done).toBe(false);
    await vi.advanceTimersByTimeAsync(LONG - 1000);
    expect(TimeoutError.isInstance(call.error)).toBe(true);
  });

  it('attemptTimeout: 2 ** 31 makes one attempt, not hundreds', async () => {
    const attempt = vi.fn(() => new Promise(() => {}));
    const call = settled(asyncbackoff({ attemptTimeout: LONG, maxTries: 3 })(attempt)());
    await vi.advanceTimersByTimeAsync(30 * day);
    expect(attempt).toHaveBeenCalledTimes(2); // one timeout after 24.8 days, then the retry
    expect(call.done).toBe(false);
  });

  it('a 30-day deadline and pause are honoured', async () => {
    class Down extends Error {}
    const attempt = vi.fn(() => Promise.reject(new Down()));
    const call = settled(
      asyncbackoff({ deadline: 30 * day, pause: 30 * day, exceptions: [Down] })(attempt)(),
    );
    await vi.advanceTimersByTimeAsync(10 * day);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(call.done).toBe(false);
    await vi.advanceTimersByTimeAsync(20 * day);
    expect(call.error).toBeInstanceOf(Down);
  });

  it('a breaker with brokenTime 2 ** 31 stays BROKEN for 2^31 ms', async () => {
    const breaker = new CircuitBreaker({
      errorRatio: 0.5,
      responseTime: 1000,
      brokenTime: LONG,
      minimumCalls: 1,
    });
    await breaker.call(() => Promise.reject(new Error('down'))).catch(() => {});
    expect(breaker.state).toBe(CircuitBreakerStates.BROKEN);
    await vi.advanceTimersByTimeAsync(1000);
    expect(breaker.state).toBe(CircuitBreakerStates.BROKEN);
    await vi.advanceTimersByTimeAsync(LONG - 1001);
    expect(breaker.state).toBe(CircuitBreakerStates.BROKEN);
    await vi.advanceTimersByTimeAsync(1);
    expect(breaker.state).toBe(CircuitBreakerStates.RECOVERING);
  });

  it('an aggregate leeway of 2 ** 31 ms collects for that long', async () => {
    const batch = vi.fn(async (_signal: AbortSignal, ...values: number[]) => values);
    const call = settled(aggregate({ leewayMs: LONG })(batch)(1));
    await vi.advanceTimersByTimeAsync(1000);
    expect(batch).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(LONG);
    expect(batch).toHaveBeenCalledOnce();
    expect(call.done).toBe(true);
  });
});
