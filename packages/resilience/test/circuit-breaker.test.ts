import { getStatistics, InvalidArgumentError } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { CircuitBreakerOptions, CircuitBreakerState } from '../src/index';
import { CircuitBreaker, CircuitBreakerStates, CircuitBroken, cutout } from '../src/index';

const { PASSING, BROKEN, RECOVERING } = CircuitBreakerStates;

class Upstream extends Error {}
class Other extends Error {}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

const ok = async () => 'ok';
const fail =
  (error: unknown = new Upstream('down')) =>
  () =>
    Promise.reject(error);

async function settle(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  );
}

function makeBreaker(options: Partial<CircuitBreakerOptions> = {}) {
  const changes: [CircuitBreakerState, CircuitBreakerState][] = [];
  const breaker = new CircuitBreaker({
    errorRatio: 0.5,
    responseTime: 1000,
    onStateChange: (state, previous) => changes.push([state, previous]),
    ...options,
  });
  return { breaker, changes };
}

/** Runs `oks` successes and `fails` failures through the breaker, in that order. */
async function feed(breaker: CircuitBreaker, oks: number, fails: number): Promise<void> {
  for (let i = 0; i < oks; i++) await breaker.call(ok);
  for (let i = 0; i < fails; i++) await settle(breaker.call(fail()));
}

describe('CircuitBreaker PASSING', () => {
  it('breaks on the call that brings failures / calls to errorRatio with the minimum of calls', async () => {
    const { breaker, changes } = makeBreaker();
    await feed(breaker, 5, 4);
    expect(breaker.state).toBe(PASSING);
    expect(breaker.window).toEqual({ calls: 9, failures: 4 });
    await settle(breaker.call(fail()));
    expect(breaker.state).toBe(BROKEN);
    expect(changes).toEqual([[BROKEN, PASSING]]);
  });

  it('breaks at 50 % errors interleaved (the Python breaker never does)', async () => {
    const { breaker } = makeBreaker();
    for (let i = 0; i < 5; i++) {
      await breaker.call(ok);
      await settle(breaker.call(fail()));
    }
    expect(breaker.state).toBe(BROKEN);
  });

  it('stays PASSING below the minimum number of calls', async () => {
    const { breaker } = makeBreaker({ minimumCalls: 10 });
    await feed(breaker, 0, 9);
    expect(breaker.state).toBe(PASSING);
    await settle(breaker.call(fail()));
    expect(breaker.state).toBe(BROKEN);
  });

  it('stays PASSING below errorRatio', async () => {
    const { breaker } = makeBreaker();
    await feed(breaker, 11, 10);
    expect(breaker.state).toBe(PASSING);
    expect(breaker.window).toEqual({ calls: 21, failures: 10 });
  });

  it('forgets calls older than responseTime (sliding window of buckets)', async () => {
    const { breaker } = makeBreaker();
    await feed(breaker, 0, 8);
    vi.advanceTimersByTime(500);
    await feed(breaker, 1, 0);
    expect(breaker.window).toEqual({ calls: 9, failures: 8 });
    // 1000 ms after the first failures their bucket has left the window
    vi.advanceTimersByTime(500);
    expect(breaker.window).toEqual({ calls: 1, failures: 0 });
    await feed(breaker, 0, 8);
    expect(breaker.state).toBe(PASSING); // 8 failures / 9 calls but only 9 calls
    await settle(breaker.call(fail()));
    expect(breaker.state).toBe(BROKEN);
  });

  it('counts errors outside `exceptions` as calls, not failures', async () => {
    const { breaker } = makeBreaker({ exceptions: [Upstream] });
    for (let i = 0; i < 20; i++) await settle(breaker.call(fail(new Other())));
    expect(breaker.state).toBe(PASSING);
    expect(breaker.window).toEqual({ calls: 20, failures: 0 });
  });

  it('ignores errors the exceptionInspector rejects and counts those where it throws', async () => {
    const inspector = vi.fn((error: unknown) => {
      if ((error as Error).message === 'explode') throw new Error('inspector bug');
      return (error as Error).message !== 'ignore';
    });
    const { breaker } = makeBreaker({ exceptionInspector: inspector });
    for (let i = 0; i < 20; i++) await settle(breaker.call(fail(new Upstream('ignore'))));
    expect(breaker.state).toBe(PASSING);
    expect(breaker.window).toEqual({ calls: 20, failures: 0 });
    expect(inspector).toHaveBeenCalledTimes(20);
    for (let i = 0; i < 20; i++) await settle(breaker.call(fail(new Upstream('explode'))));
    expect(breaker.state).toBe(BROKEN);
  });

  it('does not count a CircuitBroken error thrown by the function', async () => {
    const { breaker } = makeBreaker();
    for (let i = 0; i < 20; i++) await settle(breaker.call(fail(new CircuitBroken(undefined))));
    expect(breaker.window).toEqual({ calls: 0, failures: 0 });
    expect(breaker.state).toBe(PASSING);
  });

  it('counts a synchronous throw as a failure and passes arguments', async () => {
    const { breaker } = makeBreaker({ minimumCalls: 1, errorRatio: 1 });
    await expect(breaker.call(async (a: number, b: number) => a * b, 6, 7)).resolves.toBe(42);
    const error = await settle(
      breaker.call(() => {
        throw new Upstream('sync');
      }),
    );
    expect(error).toBeInstanceOf(Upstream);
    expect(breaker.window).toEqual({ calls: 2, failures: 1 });
  });

  it('counts slow successes as failures when slowCallTime is set', async () => {
    const { breaker } = makeBreaker({ slowCallTime: 100, minimumCalls: 2 });
    const slow = () => new Promise((resolve) => setTimeout(resolve, 100, 'slow'));
    await breaker.call(ok);
    const call = breaker.call(slow);
    await vi.advanceTimersByTimeAsync(100);
    await expect(call).resolves.toBe('slow');
    expect(breaker.state).toBe(BROKEN);
    expect(breaker.statistic.slow_calls).toBe(1);
  });
});

describe('CircuitBreaker BROKEN and RECOVERING', () => {
  async function broken(options: Partial<CircuitBreakerOptions> = {}) {
    const made = makeBreaker({ brokenTime: 200, recoveryTime: 400, passingTime: 300, ...options });
    const last = new Upstream('last');
    await feed(made.breaker, 0, 9);
    await settle(made.breaker.call(fail(last)));
    expect(made.breaker.state).toBe(BROKEN);
    return { ...made, last };
  }

  it('rejects every call with CircuitBroken carrying the last exception, without counting it', async () => {
    const { breaker, last } = await broken();
    const fn = vi.fn(ok);
    const error = await settle(breaker.call(fn));
    expect(CircuitBroken.isInstance(error)).toBe(true);
    expect((error as CircuitBroken).lastException).toBe(last);
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.window).toEqual({ calls: 0, failures: 0 });
    expect(breaker.statistic).toMatchObject({
      call_count: 11,
      call_broken: 1,
      error: 10,
      success: 0,
    });
  });

  it('moves to RECOVERING after brokenTime and lets a growing share through', async () => {
    const { breaker, changes } = await broken();
    vi.advanceTimersByTime(199);
    expect(breaker.state).toBe(BROKEN);
    expect(breaker.stateDelay).toBe(1);
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe(RECOVERING);
    expect(changes.at(-1)).toEqual([RECOVERING, BROKEN]);

    const random = vi.spyOn(Math, 'random').mockReturnValue(0.3);
    // at the start of recovery the share is 0: nothing goes through
    expect(CircuitBroken.isInstance(await settle(breaker.call(ok)))).toBe(true);
    // half way the share is 2^0.5 - 1 = 0.41
    vi.advanceTimersByTime(200);
    await expect(breaker.call(ok)).resolves.toBe('ok');
    random.mockReturnValue(0.5);
    expect(CircuitBroken.isInstance(await settle(breaker.call(ok)))).toBe(true);
    expect(breaker.statistic).toMatchObject({
      call_recovering: 3,
      call_recovering_ok: 1,
      call_recovering_failed: 2,
    });
    expect(breaker.state).toBe(RECOVERING);
  });

  it('breaks again when the sample reaches errorRatio', async () => {
    const { breaker, changes } = await broken();
    vi.advanceTimersByTime(200);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    vi.advanceTimersByTime(100);
    await breaker.call(ok);
    expect(breaker.state).toBe(RECOVERING);
    await settle(breaker.call(fail()));
    expect(breaker.state).toBe(BROKEN); // 1 failure / 2 calls >= 0.5
    expect(changes.map(([state]) => state)).toEqual([BROKEN, RECOVERING, BROKEN]);
  });

  it('passes when recoveryTime ends, then may not break during passingTime', async () => {
    const { breaker, changes } = await broken();
    vi.advanceTimersByTime(200 + 400);
    expect(breaker.state).toBe(PASSING);
    expect(changes.map(([state]) => state)).toEqual([BROKEN, RECOVERING, PASSING]);
    expect(breaker.stateDelay).toBe(300);
    await feed(breaker, 0, 20);
    expect(breaker.state).toBe(PASSING);
    vi.advanceTimersByTime(300);
    await settle(breaker.call(fail()));
    expect(breaker.state).toBe(BROKEN);
    expect(breaker.statistic.state_changes).toBe(4);
  });

  it('ignores calls that started in another state', async () => {
    const { breaker } = makeBreaker({ minimumCalls: 2, brokenTime: 100, recoveryTime: 100 });
    let release!: () => void;
    const pending = breaker.call(() => new Promise<void>((resolve) => (release = resolve)));
    await settle(breaker.call(fail()));
    await settle(breaker.call(fail()));
    expect(breaker.state).toBe(BROKEN);
    release();
    await pending;
    expect(breaker.window).toEqual({ calls: 0, failures: 0 });
  });

  it('notifies subscribers until they unsubscribe, surviving a throwing listener', async () => {
    const { breaker } = makeBreaker({ minimumCalls: 1, brokenTime: 100 });
    const seen: string[] = [];
    breaker.onStateChange(() => {
      throw new Error('listener bug');
    });
    const off = breaker.onStateChange((state) => seen.push(state));
    await settle(breaker.call(fail()));
    off();
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([BROKEN]);
    expect(breaker.state).toBe(RECOVERING);
  });
});

describe('CircuitBreaker scoped form', () => {
  it('counts success(), failure(error) and an unmarked disposal', async () => {
    const { breaker } = makeBreaker({ exceptions: [Upstream] });
    {
      using scope = breaker.enter();
      scope.success();
    }
    {
      await using scope = breaker.enter();
      scope.failure(new Upstream('counted'));
    }
    {
      using scope = breaker.enter();
      scope.failure(new Other('not counted'));
    }
    {
      using _scope = breaker.enter();
    }
    expect(breaker.window).toEqual({ calls: 4, failures: 2 });
    expect(breaker.lastException).toBeInstanceOf(Upstream);
  });

  it('throws CircuitBroken from enter() when broken', async () => {
    const { breaker } = makeBreaker({ minimumCalls: 1 });
    await settle(breaker.call(fail()));
    expect(() => breaker.enter()).toThrow(CircuitBroken);
  });
});

describe('CircuitBreaker options and statistics', () => {
  it('rejects errorRatio outside (0, 1] and bad times, naming them', () => {
    const cases: [Partial<CircuitBreakerOptions>, string][] = [
      [{ errorRatio: 0 }, 'errorRatio'],
      [{ errorRatio: 1.5 }, 'errorRatio'],
      [{ errorRatio: -0.1 }, 'errorRatio'],
      [{ errorRatio: Number.NaN }, 'errorRatio'],
      [{ responseTime: 0 }, 'responseTime'],
      [{ responseTime: -1 }, 'responseTime'],
      [{ brokenTime: -1 }, 'brokenTime'],
      [{ passingTime: -1 }, 'passingTime'],
      [{ recoveryTime: -1 }, 'recoveryTime'],
      [{ minimumCalls: 0 }, 'minimumCalls'],
      [{ slowCallTime: -1 }, 'slowCallTime'],
      [{ exceptionInspector: 'x' as never }, 'exceptionInspector'],
    ];
    for (const [options, argument] of cases) {
      let error: unknown;
      try {
        new CircuitBreaker({ errorRatio: 0.5, responseTime: 1000, ...options });
      } catch (e) {
        error = e;
      }
      expect(InvalidArgumentError.isInstance(error), argument).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe(argument);
    }
  });

  it('defaults the three times to responseTime', () => {
    const breaker = new CircuitBreaker({ errorRatio: 0.5, responseTime: 1234 });
    expect([breaker.brokenTime, breaker.passingTime, breaker.recoveryTime]).toEqual([
      1234, 1234, 1234,
    ]);
    expect(breaker.minimumCalls).toBe(10);
  });

  it('reports its counters in getStatistics()', async () => {
    const breaker = new CircuitBreaker({
      errorRatio: 0.5,
      responseTime: 1000,
      statisticName: 'upstream',
    });
    await breaker.call(ok);
    const counters = Object.fromEntries(
      getStatistics('CircuitBreakerStatistic')
        .filter((s) => s.name === 'upstream')
        .map((s) => [s.metric, s.value]),
    );
    expect(counters).toMatchObject({
      call_count: 1,
      call_passing: 1,
      success: 1,
      error_ratio_threshold: 0.5,
    });
  });
});

describe('cutout', () => {
  it('puts each wrapped function behind a breaker of its own', async () => {
    const breakAt = cutout(0.5, 1000, Upstream);
    const failing = breakAt(fail());
    const healthy = breakAt(ok);
    for (let i = 0; i < 10; i++) await settle(failing());
    expect(CircuitBroken.isInstance(await settle(failing()))).toBe(true);
    await expect(healthy()).resolves.toBe('ok');
  });

  it('counts only the given classes, and every error when none are given', async () => {
    const onlyUpstream = cutout(0.5, 1000, Upstream)(fail(new Other()));
    for (let i = 0; i < 20; i++) await settle(onlyUpstream());
    expect(await settle(onlyUpstream())).toBeInstanceOf(Other);

    const all = cutout(0.5, 1000)(fail(new Other()));
    for (let i = 0; i < 10; i++) await settle(all());
    expect(CircuitBroken.isInstance(await settle(all()))).toBe(true);
  });

  it('validates at decoration time', () => {
    expect(() => cutout(2, 1000)).toThrow(InvalidArgumentError);
    expect(() => cutout(0.5, 0)).toThrow(InvalidArgumentError);
  });
});
