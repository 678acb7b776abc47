import { InvalidArgumentError, InvalidStateError } from '@aiomisc/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  caught,
  closeDefaultThreadPool,
  ContextVar,
  IteratorWrapper,
  IteratorWrapperSeparate,
  PoolClosedError,
  syncWaitCoroutine,
  threadedIterable,
  ThreadPoolExecutor,
  WorkerExitedError,
} from './helpers';

const jobsUrl = new URL('./fixtures/esm-jobs.mjs', import.meta.url).href;
const jobs = await import('./fixtures/esm-jobs.mjs');

afterAll(async () => {
  await closeDefaultThreadPool();
});

describe('ContextVar', () => {
  it('carries the value set before each call to the threaded code', async () => {
    const pending: Array<Promise<unknown>> = [];
    for (const id of [11, 22, 33]) {
      jobs.userId.set(id);
      pending.push(jobs.readUser());
    }
    await expect(Promise.all(pending)).resolves.toEqual([11, 22, 33]);
  });

  it('run() scopes a value; get() without value or default throws', async () => {
    const variable = new ContextVar<string>('test.scoped');
    expect(() => variable.get()).toThrow();
    expect(variable.run('inside', () => variable.get())).toBe('inside');
    expect(variable.getOr('fallback')).toBe('fallback');
    expect(new ContextVar('test.defaulted', { default: 5 }).get()).toBe(5);
    await expect(jobs.userId.run(99, () => jobs.readUser() as Promise<unknown>)).resolves.toBe(99);
  });

  it('reaches separate threads and iterators too', async () => {
    await expect(
      jobs.userId.run(7, () => jobs.separateInfo('v') as Promise<unknown>),
    ).resolves.toMatchObject({ user: 7, isMainThread: false });
    const items: string[] = [];
    const wrapper: AsyncIterable<string> = jobs.userId.run(
      8,
      () => jobs.finite(2) as AsyncIterable<string>,
    );
    for await (const item of wrapper) items.push(item);
    expect(items).toEqual(['8:0', '8:1']);
  });

  it('rejects an empty name', () => {
    expect(InvalidArgumentError.isInstance(catchSync(() => new ContextVar('')))).toBe(true);
  });
});

describe('syncWaitCoroutine', () => {
  it('blocks the worker until the async function on the main thread returns', async () => {
    await expect(jobs.callMain(21)).resolves.toEqual({
      result: { doubled: 42, isMainThread: true },
      isMainThread: false,
    });
  });

  it('throws the main thread error in the worker', async () => {
    await expect(jobs.callMainFailing('boom')).resolves.toEqual({
      name: 'RangeError',
      message: 'boom',
      isRangeError: true,
    });
  });

  it('refuses to run on the main thread', () => {
    expect(
      InvalidStateError.isInstance(
        catchSync(() => syncWaitCoroutine({ moduleUrl: jobsUrl, name: 'mainDouble' }, 1)),
      ),
    ).toBe(true);
  });
});

describe('threadedSeparate', () => {
  it('runs each call in a fresh thread', async () => {
    const [a, b] = await Promise.all([jobs.separateInfo(1), jobs.separateInfo(2)]);
    expect(a.isMainThread).toBe(false);
    expect(a.threadId).not.toBe(b.threadId);
  });

  it('terminates the thread when the signal aborts', async () => {
    const controller = new AbortController();
    const running = jobs.separateSpin.callWith({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error('enough')), 50);
    await expect(running).rejects.toThrow('enough');
  });
});

describe('threadedIterable', () => {
  it('never lets the producer run more than maxSize items ahead', async () => {
    const shared = new SharedArrayBuffer(8);
    const counters = new Int32Array(shared);
    const wrapper = jobs.counting(shared);
    expect(wrapper.maxSize).toBe(3);
    let consumed = 0;
    for await (const item of wrapper) {
      expect(item).toBe(consumed);
      consumed++;
      // Give the producer every chance to run ahead.
      await new Promise((resolve) => setTimeout(resolve, 2));
      expect(Atomics.load(counters, 0)).toBeLessThanOrEqual(consumed + 3);
      if (consumed === 30) break;
    }
    // break closed the wrapper: the generator's finally ran and production stopped.
    expect(Atomics.load(counters, 1)).toBe(1);
    const produced = Atomics.load(counters, 0);
    expect(produced).toBeLessThanOrEqual(33);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Atomics.load(counters, 0)).toBe(produced);
  });

  it('close() stops the producer; the wrapper is AsyncDisposable', async () => {
    const shared = new SharedArrayBuffer(8);
    const counters = new Int32Array(shared);
    {
      await using wrapper = jobs.counting(shared);
      await expect(wrapper.next()).resolves.toEqual({ value: 0, done: false });
    }
    expect(Atomics.load(counters, 1)).toBe(1);
    const second = jobs.counting(new SharedArrayBuffer(8));
    await second.next();
    await second.close();
    expect(second.closed).toBe(true);
    await expect(second.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('delivers the items before a generator error, then the error', async () => {
    const items: number[] = [];
    const error = await caught(
      (async () => {
        for await (const item of jobs.failing()) items.push(item);
      })(),
    );
    expect(items).toEqual([1, 2]);
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('generator broke');
  });

  it('runs on a given pool with IteratorWrapper and on its own thread with IteratorWrapperSeparate', async () => {
    const pool = new ThreadPoolExecutor(1);
    try {
      const viaPool: number[] = [];
      for await (const item of new IteratorWrapper<number>(
        { moduleUrl: jobsUrl, name: 'plainGenerator' },
        [3],
        { pool, maxSize: 1 },
      )) {
        viaPool.push(item);
      }
      expect(viaPool).toEqual([0, 10, 20]);
      // The pool thread is free again afterwards.
      await expect(pool.submit({ moduleUrl: jobsUrl, name: 'add' }, [1, 2])).resolves.toBe(3);
    } finally {
      await pool.close();
    }
    const shared = new SharedArrayBuffer(8);
    const counters = new Int32Array(shared);
    const separate = new IteratorWrapperSeparate<{ index: number }>(
      jobs.countingSeparate,
      [shared],
      { maxSize: 2 },
    );
    const first = await separate.next();
    expect(first.value).toMatchObject({ index: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Atomics.load(counters, 0)).toBeLessThanOrEqual(3);
    await separate.close();
    expect(Atomics.load(counters, 1)).toBe(1);
  });

  it('rejects with PoolClosedError when its pool is closed', async () => {
    const pool = new ThreadPoolExecutor(1);
    await pool.close();
    const wrapper = new IteratorWrapper({ moduleUrl: jobsUrl, name: 'plainGenerator' }, [3], {
      pool,
    });
    expect(PoolClosedError.isInstance(await caught(wrapper.next()))).toBe(true);
  });

  it('ends an open generator when its pool closes', async () => {
    const pool = new ThreadPoolExecutor(1);
    const wrapper = new IteratorWrapper<number>(jobs.counting, [new SharedArrayBuffer(8)], {
      pool,
      maxSize: 2,
    });
    await expect(wrapper.next()).resolves.toEqual({ value: 0, done: false });
    await pool.close();
    const drained: number[] = [];
    const error = await caught(
      (async () => {
        for await (const item of wrapper) drained.push(item);
      })(),
    );
    expect(drained.length).toBeLessThanOrEqual(2);
    expect(WorkerExitedError.isInstance(error)).toBe(true);
  });

  it('rejects maxSize < 1', () => {
    expect(
      InvalidArgumentError.isInstance(
        catchSync(() => threadedIterable(jobsUrl, 'bad', function* () {}, { maxSize: 0 })),
      ),
    ).toBe(true);
    expect(
      InvalidArgumentError.isInstance(
        catchSync(
          () => new IteratorWrapper({ moduleUrl: jobsUrl, name: 'x' }, [], { maxSize: 0.5 }),
        ),
      ),
    ).toBe(true);
  });
});

function catchSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
