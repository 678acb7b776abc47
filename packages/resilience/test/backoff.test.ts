import { getStatistics } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { asyncbackoff, asyncretry, TimeoutError } from '../src/index';
import { expectInvalidArguments } from './expect-invalid-arguments';

class RetryMe extends Error {}
class Fatal extends Error {}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function catching(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** A function that fails `failures` times with `make()`, then returns the attempt number. */
function flaky(failures: number, make: () => unknown = () => new RetryMe('retry')) {
  const signals: AbortSignal[] = [];
  const fn = vi.fn(async (signal: AbortSignal) => {
    signals.push(signal);
    if (signals.length <= failures) throw make();
    return signals.length;
  });
  return { fn, signals };
}

/** A function whose attempts never settle unless their signal aborts. */
function hanging() {
  const signals: AbortSignal[] = [];
  const fn = vi.fn(
    (signal: AbortSignal) =>
      new Promise<never>((_resolve, reject) => {
        signals.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
  );
  return { fn, signals };
}

describe('asyncretry', () => {
  it('retries any error and counts attempts exactly', async () => {
    const { fn } = flaky(2);
    const wrapped = asyncretry(3, { statisticName: 'exact' })(fn);
    await expect(wrapped()).resolves.toBe(3);
    expect(fn).toHaveBeenCalledTimes(3);
    const stats = Object.fromEntries(
      getStatistics('RetryStatistic')
        .filter((s) => s.name === 'exact')
        .map((s) => [s.metric, s.value]),
    );
    expect(stats).toMatchObject({
      call_count: 1,
      attempts: 3,
      done: 3,
      errors: 2,
      retries: 2,
      success: 1,
    });
  });

  it('makes at most maxTries attempts and rethrows the last error', async () => {
    let n = 0;
    const fn = vi.fn(async () => {
      throw new RetryMe(`attempt ${++n}`);
    });
    const error = await catching(asyncretry(4)(fn)());
    expect(fn).toHaveBeenCalledTimes(4);
    expect((error as Error).message).toBe('attempt 4');
  });

  it('with pause 0 never arms a timer', async () => {
    const { fn } = flaky(3);
    const wrapped = asyncretry(5)(fn);
    const counts: number[] = [];
    fn.mockImplementation(async () => {
      counts.push(vi.getTimerCount());
      if (counts.length <= 3) throw new RetryMe();
      return counts.length;
    });
    await expect(wrapped()).resolves.toBe(4);
    expect(counts).toEqual([0, 0, 0, 0]);
  });

  it('yields to the event loop during a long zero-pause retry loop', async () => {
    vi.useRealTimers();
    let immediateRan = false;
    let retriesBeforeImmediate = -1;
    setImmediate(() => (immediateRan = true));
    let calls = 0;
    const wrapped = asyncretry(300)(async () => {
      calls++;
      if (immediateRan && retriesBeforeImmediate < 0) retriesBeforeImmediate = calls - 1;
      if (calls < 250) throw new RetryMe();
      return calls;
    });
    await expect(wrapped()).resolves.toBe(250);
    expect(retriesBeforeImmediate).toBe(100);
  });

  it('gives attempts a signal that never aborts when there are no time limits', async () => {
    const { fn, signals } = flaky(1);
    await asyncretry(2)(fn)();
    expect(signals).toHaveLength(2);
    expect(signals.every((signal) => signal instanceof AbortSignal && !signal.aborted)).toBe(true);
  });

  it('only retries the listed classes', async () => {
    const fatal = flaky(1, () => new Fatal('no'));
    const error = await catching(asyncretry(5, { exceptions: [RetryMe] })(fatal.fn)());
    expect(error).toBeInstanceOf(Fatal);
    expect(fatal.fn).toHaveBeenCalledTimes(1);

    const retried = flaky(1);
    await expect(asyncretry(5, { exceptions: [RetryMe] })(retried.fn)()).resolves.toBe(2);
  });

  it('waits pause ms between attempts', async () => {
    const { fn } = flaky(1);
    const result = asyncretry(2, { pause: 100 })(fn)();
    await vi.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await expect(result).resolves.toBe(2);
  });

  it('grows the pause by factor up to maxPause and takes jitter off', async () => {
    const { fn } = flaky(4);
    const starts: number[] = [];
    const start = Date.now();
    fn.mockImplementation(async () => {
      starts.push(Date.now() - start);
      if (starts.length <= 4) throw new RetryMe();
      return starts.length;
    });
    const result = asyncretry(5, { pause: 100, factor: 2, maxPause: 300 })(fn)();
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(result).resolves.toBe(5);
    // pauses 100, 200, 300 (capped), 300
    expect(starts).toEqual([0, 100, 300, 600, 900]);

    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const jittered = flaky(1);
    const jitterStart = Date.now();
    const again = asyncretry(2, { pause: 100, jitter: 1 })(jittered.fn)();
    await vi.advanceTimersByTimeAsync(49);
    expect(jittered.fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(jittered.fn).toHaveBeenCalledTimes(2);
    expect(Date.now() - jitterStart).toBe(50);
    await expect(again).resolves.toBe(2);
  });

  it('stops when giveup returns true for the error object', async () => {
    const seen: unknown[] = [];
    let n = 0;
    const fn = vi.fn(async () => {
      throw new RetryMe(String(++n));
    });
    const giveup = (error: unknown) => {
      seen.push(error);
      return (error as Error).message === '2';
    };
    const error = await catching(asyncretry(10, { giveup })(fn)());
    expect(fn).toHaveBeenCalledTimes(2);
    expect((error as Error).message).toBe('2');
    expect(seen.every((e) => e instanceof RetryMe)).toBe(true);
  });

  it('turns a synchronous throw into a retried failure', async () => {
    let n = 0;
    const wrapped = asyncretry(2)(() => {
      if (++n === 1) throw new RetryMe();
      return 'ok';
    });
    await expect(wrapped()).resolves.toBe('ok');
  });

  it('passes arguments and this', async () => {
    const wrapped = asyncretry(1)(async function (this: { base: number }, _signal, x: number) {
      return this.base + x;
    });
    await expect(wrapped.call({ base: 40 }, 2)).resolves.toBe(42);
  });

  it('rejects maxTries < 1 and bad options, naming them', () => {
    const cases: [() => unknown, string][] = [
      [() => asyncretry(0), 'maxTries'],
      [() => asyncretry(1.5), 'maxTries'],
      [() => asyncretry(2, { pause: -1 }), 'pause'],
      [() => asyncretry(2, { factor: 0.5 }), 'factor'],
      [() => asyncretry(2, { jitter: 2 }), 'jitter'],
      [() => asyncretry(2, { giveup: 1 as never }), 'giveup'],
      [() => asyncretry(2, { exceptions: [1 as never] }), 'exceptions[0]'],
      [() => asyncbackoff({ maxTries: 0 }), 'maxTries'],
      [() => asyncbackoff({ deadline: -1 }), 'deadline'],
      [() => asyncbackoff({ attemptTimeout: -5 }), 'attemptTimeout'],
    ];
    expectInvalidArguments(cases);
  });
});

describe('asyncbackoff', () => {
  it('retries only attempt timeouts when no exceptions are given', async () => {
    const fatal = flaky(1, () => new RetryMe());
    const error = await catching(asyncbackoff({ attemptTimeout: 100 })(fatal.fn)());
    expect(error).toBeInstanceOf(RetryMe);
    expect(fatal.fn).toHaveBeenCalledTimes(1);
  });

  it('aborts a timed-out attempt and starts the next one', async () => {
    const { fn, signals } = hanging();
    const result = catching(asyncbackoff({ attemptTimeout: 100, maxTries: 3 })(fn)());
    await vi.advanceTimersByTimeAsync(100);
    expect(signals).toHaveLength(2);
    expect(signals[0]!.aborted).toBe(true);
    expect(TimeoutError.isInstance(signals[0]!.reason)).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    const error = await result;
    expect(fn).toHaveBeenCalledTimes(3);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborts the running attempt at the deadline and throws the last attempt error', async () => {
    const { fn, signals } = hanging();
    const wrapped = asyncbackoff({
      attemptTimeout: 100,
      deadline: 250,
      statisticName: 'deadline-race',
    })(fn);
    const result = catching(wrapped());
    await vi.advanceTimersByTimeAsync(249);
    expect(signals).toHaveLength(3);
    expect(signals[2]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await result;
    expect(signals[2]!.aborted).toBe(true);
    expect((signals[2]!.reason as TimeoutError).timeoutMs).toBe(250);
    // the last error of an attempt (the second attempt timeout) wins over the deadline
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(100);
    const stats = Object.fromEntries(
      getStatistics('BackoffStatistic')
        .filter((s) => s.name === 'deadline-race')
        .map((s) => [s.metric, s.value]),
    );
    expect(stats).toMatchObject({ attempts: 3, errors: 2, cancels: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('throws the deadline TimeoutError when no attempt failed before it', async () => {
    const { fn, signals } = hanging();
    const result = catching(asyncbackoff({ deadline: 300 })(fn)());
    await vi.advanceTimersByTimeAsync(300);
    const error = await result;
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(300);
    expect(signals[0]!.reason).toBe(error);
  });

  it('lets the last retried error win over the deadline during a pause', async () => {
    const fn = vi.fn(async () => {
      throw new RetryMe('RETRY');
    });
    const result = catching(
      asyncbackoff({ deadline: 250, pause: 100, exceptions: [RetryMe] })(fn)(),
    );
    await vi.advanceTimersByTimeAsync(250);
    const error = await result;
    expect(error).toBeInstanceOf(RetryMe);
    expect(fn).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails at once with deadline 0', async () => {
    const fn = vi.fn(async () => 1);
    const error = await catching(asyncbackoff({ deadline: 0 })(fn)());
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(fn).not.toHaveBeenCalled();
  });

  it('combines maxTries, pause and giveup with the time limits', async () => {
    let n = 0;
    const fn = vi.fn(async () => {
      throw new RetryMe(String(++n));
    });
    const wrapped = asyncbackoff({
      attemptTimeout: 1000,
      deadline: 10_000,
      pause: 10,
      maxTries: 3,
      exceptions: [RetryMe],
    })(fn);
    const result = catching(wrapped());
    await vi.advanceTimersByTimeAsync(20);
    const error = await result;
    expect((error as Error).message).toBe('3');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(vi.getTimerCount()).toBe(0);

    const giveup = vi.fn(() => true);
    const once = vi.fn(async () => {
      throw new RetryMe('x');
    });
    await catching(asyncbackoff({ deadline: 1000, exceptions: [RetryMe], giveup })(once)());
    expect(once).toHaveBeenCalledTimes(1);
    expect(giveup).toHaveBeenCalledTimes(1);
  });

  it('resolves with the value of a successful retry and clears every timer', async () => {
    const { fn } = flaky(2);
    const wrapped = asyncbackoff({ attemptTimeout: 100, deadline: 1000, exceptions: [RetryMe] })(
      fn,
    );
    await expect(wrapped()).resolves.toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('measures sum_time for a named statistic', async () => {
    const wrapped = asyncbackoff({ statisticName: 'timed', exceptions: [RetryMe] })(
      () => new Promise((resolve) => setTimeout(() => resolve(1), 40)),
    );
    const result = wrapped();
    await vi.advanceTimersByTimeAsync(40);
    await result;
    const sumTime = getStatistics('BackoffStatistic').find(
      (s) => s.name === 'timed' && s.metric === 'sum_time',
    );
    expect(sumTime?.value).toBeGreaterThanOrEqual(40);
  });
});
