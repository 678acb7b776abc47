import { getStatistics, InvalidStateError } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { Arg } from '../src/index';
import { aggregate, aggregateAsync, ResultNotSetError } from '../src/index';
import { expectInvalidArguments } from './expect-invalid-arguments';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function settle(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  );
}

describe('aggregate', () => {
  it('runs a full batch at once when it reaches maxCount', async () => {
    const fn = vi.fn(async (_signal: AbortSignal, ...nums: number[]) => nums.map((n) => n ** 2));
    const square = aggregate({ leewayMs: 1000, maxCount: 2 })(fn);
    const results = Promise.all([square(1), square(2)]);
    await expect(results).resolves.toEqual([1, 4]);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn.mock.calls[0]!.slice(1)).toEqual([1, 2]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('collects calls for leewayMs after the first one of a batch', async () => {
    const fn = vi.fn(async (_signal: AbortSignal, ...nums: number[]) => nums.map((n) => n * 10));
    const times10 = aggregate({ leewayMs: 50 })(fn);
    const first = times10(1);
    await vi.advanceTimersByTimeAsync(30);
    const second = times10(2);
    const third = times10(3);
    await vi.advanceTimersByTimeAsync(19);
    expect(fn).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(1);
    await expect(Promise.all([first, second, third])).resolves.toEqual([10, 20, 30]);
    // the next call starts a new batch
    const fourth = times10(4);
    await vi.advanceTimersByTimeAsync(50);
    await expect(fourth).resolves.toBe(40);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('splits calls into batches of maxCount', async () => {
    const fn = vi.fn(async (_signal: AbortSignal, ...nums: number[]) => nums);
    const echo = aggregate({ leewayMs: 100, maxCount: 2 })(fn);
    const all = Promise.all([echo(1), echo(2), echo(3)]);
    await vi.advanceTimersByTimeAsync(100);
    await expect(all).resolves.toEqual([1, 2, 3]);
    expect(fn.mock.calls.map((call) => call.slice(1))).toEqual([[1, 2], [3]]);
  });

  it('rejects every caller of the batch with the error of the function', async () => {
    const boom = new RangeError('boom');
    const failing = aggregate({ leewayMs: 10 })<number, number>(async () => {
      throw boom;
    });
    const results = [failing(1), failing(2)].map(settle);
    await vi.advanceTimersByTimeAsync(10);
    expect(await Promise.all(results)).toEqual([boom, boom]);
  });

  it('rejects callers without a result with ResultNotSetError', async () => {
    const short = aggregate({ leewayMs: 10 })(async (_signal, ...values: number[]) =>
      values.slice(0, 1),
    );
    const results = [short(1), short(2)].map(settle);
    await vi.advanceTimersByTimeAsync(10);
    const [first, second] = await Promise.all(results);
    expect(first).toBe(1);
    expect(ResultNotSetError.isInstance(second)).toBe(true);
  });

  it('rejects with InvalidStateError when the function returns no iterable', async () => {
    const bad = aggregate({ leewayMs: 10 })<number, number>(
      async () => undefined as unknown as number[],
    );
    const result = settle(bad(1));
    await vi.advanceTimersByTimeAsync(10);
    expect(InvalidStateError.isInstance(await result)).toBe(true);
  });

  it('lets another caller run the batch when the running caller aborts', async () => {
    const runs: { signal: AbortSignal; values: number[]; finish: () => void }[] = [];
    const fn = vi.fn(
      (signal: AbortSignal, ...values: number[]) =>
        new Promise<number[]>((resolve) => {
          runs.push({ signal, values, finish: () => resolve(values.map((v) => v + 100)) });
        }),
    );
    const plus100 = aggregate({ leewayMs: 10, statisticName: 'abort-mid-batch' })(fn);
    const runner = new AbortController();
    const first = settle(plus100(1, { signal: runner.signal }));
    const second = plus100(2);
    const third = plus100(3);
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toHaveLength(1);
    const reason = new Error('caller went away');
    runner.abort(reason);
    expect(runs[0]!.signal.aborted).toBe(true);
    expect(runs).toHaveLength(2);
    // the batch is run again for every value, the aborted caller's included
    expect(runs[1]!.values).toEqual([1, 2, 3]);
    expect(await first).toBe(reason);
    // the first run finishing late changes nothing
    runs[0]!.finish();
    runs[1]!.finish();
    await expect(Promise.all([second, third])).resolves.toEqual([102, 103]);
    expect(fn).toHaveBeenCalledTimes(2);
    const done = getStatistics('AggregateStatistic').find(
      (s) => s.name === 'abort-mid-batch' && s.metric === 'done',
    );
    expect(done?.value).toBe(1);
  });

  it('rejects a caller that aborts while waiting without disturbing the others', async () => {
    const fn = vi.fn(async (_signal: AbortSignal, ...values: number[]) => values);
    const echo = aggregate({ leewayMs: 10 })(fn);
    const controller = new AbortController();
    const first = echo(1);
    const second = settle(echo(2, { signal: controller.signal }));
    controller.abort('bye');
    expect(await second).toBe('bye');
    await vi.advanceTimersByTimeAsync(10);
    await expect(first).resolves.toBe(1);
    expect(fn).toHaveBeenCalledTimes(1);
    await expect(echo(3, { signal: AbortSignal.abort('early') })).rejects.toBe('early');
  });

  it('rejects bad options, naming them', () => {
    const cases: [() => unknown, string][] = [
      [() => aggregate({ leewayMs: 0 }), 'leewayMs'],
      [() => aggregate({ leewayMs: -1 }), 'leewayMs'],
      [() => aggregate({ leewayMs: 10, maxCount: 0 }), 'maxCount'],
      [() => aggregateAsync({ leewayMs: 10, maxCount: 1.5 }), 'maxCount'],
    ];
    expectInvalidArguments(cases);
  });

  it('reports leeway_ms and max_count in its statistic', () => {
    aggregate({ leewayMs: 25, maxCount: 7, statisticName: 'options' })(async () => []);
    const counters = Object.fromEntries(
      getStatistics('AggregateStatistic')
        .filter((s) => s.name === 'options')
        .map((s) => [s.metric, s.value]),
    );
    expect(counters).toMatchObject({ leeway_ms: 25, max_count: 7 });
  });
});

describe('aggregateAsync', () => {
  it('hands Arg { value, future } objects to the function, which sets the results', async () => {
    const pow = aggregateAsync({ leewayMs: 10, maxCount: 2 })(async (
      _signal,
      ...args: Arg<number, number>[]
    ) => {
      for (const arg of args) arg.future.setResult(arg.value ** 2);
    });
    await expect(Promise.all([pow(3), pow(4)])).resolves.toEqual([9, 16]);
  });

  it('rejects futures left unset with ResultNotSetError and honours setException', async () => {
    const partial = aggregateAsync({ leewayMs: 10 })(async (
      _signal,
      ...args: Arg<number, number>[]
    ) => {
      args[0]!.future.setResult(1);
      args[1]!.future.setException(new RangeError('bad'));
    });
    const results = [partial(1), partial(2), partial(3)].map(settle);
    await vi.advanceTimersByTimeAsync(10);
    const [first, second, third] = await Promise.all(results);
    expect(first).toBe(1);
    expect(second).toBeInstanceOf(RangeError);
    expect(ResultNotSetError.isInstance(third)).toBe(true);
  });
});
