import { InvalidArgumentError } from '@aiomisc/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  caught,
  closeDefaultThreadPool,
  FunctionNotFoundError,
  getDefaultThreadPool,
  getStatisticsOf,
  PoolClosedError,
  threaded,
  ThreadPoolExecutor,
  WorkerExitedError,
} from './helpers';

const jobsUrl = new URL('./fixtures/esm-jobs.mjs', import.meta.url).href;
const jobs = await import('./fixtures/esm-jobs.mjs');

afterAll(async () => {
  await closeDefaultThreadPool();
});

describe('threaded', () => {
  it('runs module code with its imports in a worker thread', async () => {
    const result = await jobs.sha256('hello');
    expect(result.isMainThread).toBe(false);
    expect(result.digest).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it('runs many calls and keeps each result with its call', async () => {
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, index) => jobs.add(index, 1) as Promise<number>),
    );
    expect(results).toEqual(Array.from({ length: 500 }, (_, index) => index + 1));
  });

  it('awaits async functions in the worker', async () => {
    await expect(jobs.asyncAdd(2, 2)).resolves.toBe(4);
  });

  it('keeps the error class name, message, stack and fields', async () => {
    const error = await jobs.failValidation('bad email').catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ValidationError');
    expect(error.constructor.name).toBe('ValidationError');
    expect(error.message).toBe('bad email');
    expect(error.field).toBe('email');
    expect(error.stack).toContain('esm-jobs.mjs');
  });

  it('rebuilds built-in error classes and aiomisc error markers', async () => {
    const typeError = await jobs.failType().catch((reason: unknown) => reason);
    expect(typeError).toBeInstanceOf(TypeError);
    const invalid = await jobs.failInvalidArgument(0).catch((reason: unknown) => reason);
    expect(InvalidArgumentError.isInstance(invalid)).toBe(true);
    expect(invalid.argument).toBe('size');
  });

  it('syncCall runs the function in this thread', () => {
    expect(jobs.sha256.syncCall('x').isMainThread).toBe(true);
  });

  it('uses the pool given in the options or per call', async () => {
    const pool = new ThreadPoolExecutor(1, { statisticName: 'threaded-options' });
    try {
      const own = threaded(jobsUrl, 'add', (a: number, b: number) => a + b, { pool });
      await expect(own(1, 2)).resolves.toBe(3);
      await expect(jobs.add.callWith({ pool }, 5, 5)).resolves.toBe(10);
      const stats = getStatisticsOf('ThreadPoolStatistic', 'threaded-options');
      expect(stats.submitted).toBe(2);
      expect(stats.success).toBe(2);
      expect(stats.done).toBe(2);
      expect(stats.threads).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('rejects bad input with clear errors', () => {
    expect(() => threaded('relative/path.js', 'x', () => 1)).toThrow();
    expect(
      InvalidArgumentError.isInstance(catchSync(() => threaded('relative.js', 'x', () => 1))),
    ).toBe(true);
    expect(InvalidArgumentError.isInstance(catchSync(() => threaded(jobsUrl, '', () => 1)))).toBe(
      true,
    );
    expect(
      InvalidArgumentError.isInstance(catchSync(() => threaded(jobsUrl, 'x', 42 as never))),
    ).toBe(true);
    expect(
      InvalidArgumentError.isInstance(
        catchSync(() =>
          threaded(jobsUrl, 'gen', function* () {
            yield 1;
          }),
        ),
      ),
    ).toBe(true);
    expect(InvalidArgumentError.isInstance(catchSync(() => new ThreadPoolExecutor(0)))).toBe(true);
  });

  it('rejects a function that is neither registered nor exported', async () => {
    const error = await caught(
      getDefaultThreadPool().submit({ moduleUrl: jobsUrl, name: 'doesNotExist' }),
    );
    expect(FunctionNotFoundError.isInstance(error)).toBe(true);
    expect(error.functionName).toBe('doesNotExist');
  });

  it('finds plain exports by name', async () => {
    await expect(
      getDefaultThreadPool().submit({ moduleUrl: jobsUrl, name: 'multiply' }, [6, 7]),
    ).resolves.toMatchObject({
      product: 42,
    });
  });
});

describe('ThreadPoolExecutor', () => {
  it('cancels a running task by terminating its thread, and keeps working', async () => {
    const pool = new ThreadPoolExecutor(1);
    try {
      const shared = new SharedArrayBuffer(16);
      const counters = new Int32Array(shared);
      const controller = new AbortController();
      const running = pool.submit({ moduleUrl: jobsUrl, name: 'block' }, [shared, 0, 1], {
        signal: controller.signal,
      });
      await waitFor(() => Atomics.load(counters, 0) === 1);
      const reason = new Error('stop');
      controller.abort(reason);
      await expect(running).rejects.toBe(reason);
      await expect(pool.submit({ moduleUrl: jobsUrl, name: 'add' }, [1, 1])).resolves.toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('drops a queued task when its signal aborts; it never runs', async () => {
    const pool = new ThreadPoolExecutor(1);
    try {
      const shared = new SharedArrayBuffer(16);
      const counters = new Int32Array(shared);
      const blocker = pool.submit({ moduleUrl: jobsUrl, name: 'block' }, [shared, 0, 1]);
      await waitFor(() => Atomics.load(counters, 0) === 1);
      const controller = new AbortController();
      const queued = pool.submit({ moduleUrl: jobsUrl, name: 'mark' }, [shared, 2], {
        signal: controller.signal,
      });
      controller.abort(new Error('not needed'));
      await expect(queued).rejects.toThrow('not needed');
      Atomics.store(counters, 1, 1);
      await expect(blocker).resolves.toBe('released');
      await expect(pool.submit({ moduleUrl: jobsUrl, name: 'mark' }, [shared, 3])).resolves.toBe(1);
      expect(Atomics.load(counters, 2)).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('rejects at once with an already aborted signal', async () => {
    const pool = new ThreadPoolExecutor(1);
    try {
      const reason = new Error('early');
      await expect(
        pool.submit({ moduleUrl: jobsUrl, name: 'add' }, [1, 1], {
          signal: AbortSignal.abort(reason),
        }),
      ).rejects.toBe(reason);
    } finally {
      await pool.close();
    }
  });

  it('fails only the task whose thread died; the rest of its batch runs again', async () => {
    const pool = new ThreadPoolExecutor(1);
    try {
      const ref = (name: string) => ({ moduleUrl: jobsUrl, name });
      const first = pool.submit(ref('add'), [1, 1]);
      const dying = pool.submit(ref('exitThread'));
      const after = Array.from({ length: 5 }, (_, index) => pool.submit(ref('add'), [index, 10]));
      await expect(first).resolves.toBe(2);
      const error = await dying.catch((reason: unknown) => reason);
      expect(WorkerExitedError.isInstance(error)).toBe(true);
      await expect(Promise.all(after)).resolves.toEqual([10, 11, 12, 13, 14]);
    } finally {
      await pool.close();
    }
  });

  it('a slow task does not hold back tasks submitted after it', async () => {
    const pool = new ThreadPoolExecutor(2);
    try {
      const shared = new SharedArrayBuffer(16);
      const counters = new Int32Array(shared);
      const slow = pool.submit({ moduleUrl: jobsUrl, name: 'block' }, [shared, 0, 1]);
      await waitFor(() => Atomics.load(counters, 0) === 1);
      const quick = await Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          pool.submit({ moduleUrl: jobsUrl, name: 'add' }, [index, 0]),
        ),
      );
      expect(quick).toHaveLength(100);
      Atomics.store(counters, 1, 1);
      await expect(slow).resolves.toBe('released');
    } finally {
      await pool.close();
    }
  });

  it('waits for running tasks at close, rejects queued ones, and refuses new ones', async () => {
    const pool = new ThreadPoolExecutor(1);
    const shared = new SharedArrayBuffer(16);
    const counters = new Int32Array(shared);
    const running = pool.submit({ moduleUrl: jobsUrl, name: 'block' }, [shared, 0, 1]);
    await waitFor(() => Atomics.load(counters, 0) === 1);
    const queued = pool.submit({ moduleUrl: jobsUrl, name: 'add' }, [1, 1]);
    const closing = pool.close();
    const queuedError = await queued.catch((reason: unknown) => reason);
    expect(PoolClosedError.isInstance(queuedError)).toBe(true);
    Atomics.store(counters, 1, 1);
    await expect(running).resolves.toBe('released');
    await closing;
    const late = await pool
      .submit({ moduleUrl: jobsUrl, name: 'add' }, [1, 1])
      .catch((reason: unknown) => reason);
    expect(PoolClosedError.isInstance(late)).toBe(true);
    expect(pool.closed).toBe(true);
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

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
