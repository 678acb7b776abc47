import { describe, expect, it } from 'vitest';
import { caught, getStatisticsOf, ThreadPoolExecutor, WorkerExitedError } from './helpers';

const jobsUrl = new URL('./fixtures/esm-jobs.mjs', import.meta.url).href;
const add = { moduleUrl: jobsUrl, name: 'add' };

describe('ThreadPoolExecutor with non-cloneable arguments', () => {
  it('fails only the task with a function argument in a batch', async () => {
    await using pool = new ThreadPoolExecutor(1, { statisticName: 'tp-clone' });
    const outcomes = await Promise.allSettled([
      pool.submit(add, [1, 2]),
      pool.submit(add, [3, 4]),
      pool.submit(add, [() => 1, 2]),
      pool.submit(add, [5, 6]),
      pool.submit(add, [{ cb() {} }, 2]),
      pool.submit(add, [7, 8]),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(
      outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : [])),
    ).toEqual([3, 7, 11, 15]);
    for (const outcome of outcomes) {
      if (outcome.status !== 'rejected') continue;
      expect(outcome.reason).toBeInstanceOf(TypeError);
      expect(outcome.reason).not.toBeInstanceOf(WorkerExitedError);
      expect((outcome.reason as Error).message).toMatch(/cannot be sent to a worker thread/);
    }
    const stats = getStatisticsOf('ThreadPoolStatistic', 'tp-clone');
    expect(stats.success).toBe(4);
    expect(stats.error).toBe(2);
  });

  it('rejects a lone or abortable task clearly and keeps working', async () => {
    await using pool = new ThreadPoolExecutor(1);
    const lone = await caught(pool.submit(add, [() => 1, 2]));
    expect(lone).toBeInstanceOf(TypeError);
    expect(lone.message).toMatch(/cannot be sent/);
    const abortable = await caught(
      pool.submit(add, [() => 1, 2], { signal: new AbortController().signal }),
    );
    expect(abortable).toBeInstanceOf(TypeError);
    await expect(pool.submit(add, [1, 1])).resolves.toBe(2);
    expect(pool.queueSize).toBe(0);
  });
});
