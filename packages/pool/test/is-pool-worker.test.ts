import { describe, expect, it } from 'vitest';
import * as jobs from './fixtures/esm-jobs.mjs';
import { isPoolWorker, ThreadPoolExecutor, WorkerPool } from './helpers';

const jobsUrl = new URL('./fixtures/esm-jobs.mjs', import.meta.url).href;

describe('isPoolWorker', () => {
  it('is false in the app and true in pool threads, separate threads and pool processes', async () => {
    expect(isPoolWorker()).toBe(false);
    await using threads = new ThreadPoolExecutor(1);
    expect(await threads.submit(jobs.threadIsPoolWorker)).toBe(true);
    expect(await jobs.separateIsPoolWorker()).toBe(true);
    await using processes = new WorkerPool(1);
    expect(await processes.createTask({ moduleUrl: jobsUrl, name: 'processIsPoolWorker' })).toBe(
      true,
    );
    expect(isPoolWorker()).toBe(false);
  });
});
