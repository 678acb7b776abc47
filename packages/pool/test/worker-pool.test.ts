import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@aiomisc/core';
import { describe, expect, it } from 'vitest';
import {
  catchSync,
  caught,
  FunctionNotFoundError,
  getStatisticsOf,
  PoolClosedError,
  ProcessPoolExecutor,
  WorkerExitedError,
  waitFor,
  WorkerPool,
} from './helpers';

const jobsUrl = new URL('./fixtures/esm-jobs.mjs', import.meta.url).href;
const cjsPath = new URL('./fixtures/cjs-jobs.cjs', import.meta.url).pathname;
const ref = (name: string) => ({ moduleUrl: jobsUrl, name });

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('WorkerPool', () => {
  it('runs ESM and CJS module functions in child processes', async () => {
    await using pool = new WorkerPool(2, { statisticName: 'wp-basic' });
    await pool.start();
    expect(pool.pids).toHaveLength(2);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        pool.createTask<{ product: number; pid: number }>(ref('multiply'), index, 2),
      ),
    );
    expect(results.map((result) => result.product)).toEqual(
      Array.from({ length: 20 }, (_, index) => index * 2),
    );
    for (const { pid } of results) {
      expect(pool.pids).toContain(pid);
      expect(pid).not.toBe(process.pid);
    }
    await expect(
      pool.createTask({ moduleUrl: cjsPath, name: 'cjsPlain' }, 1, 2),
    ).resolves.toMatchObject({ sum: 3 });
    const stats = getStatisticsOf('WorkerPoolStatistic', 'wp-basic');
    expect(stats.processes).toBe(2);
    expect(stats.submitted).toBe(21);
    expect(stats.success).toBe(21);
  });

  it('runs one task per process at a time', async () => {
    await using pool = new WorkerPool(2);
    // Async tasks: a process given two at once would run them overlapping.
    const runs = await Promise.all(
      Array.from({ length: 8 }, () =>
        pool.createTask<{ pid: number; start: number; end: number }>(ref('interval'), 20),
      ),
    );
    const byPid = new Map<number, Array<{ start: number; end: number }>>();
    for (const run of runs) byPid.set(run.pid, [...(byPid.get(run.pid) ?? []), run]);
    for (const list of byPid.values()) {
      list.sort((a, b) => a.start - b.start);
      for (let index = 1; index < list.length; index++)
        expect(list[index]!.start).toBeGreaterThanOrEqual(list[index - 1]!.end);
    }
  });

  it('keeps the error class name, message and fields', async () => {
    await using pool = new WorkerPool(1);
    const error = await caught(pool.createTask(ref('throwValidation'), 'no'));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('no');
    expect(error.field).toBe('email');
    expect(error.stack).toContain('esm-jobs.mjs');
  });

  it('a task that exits its process fails alone; the process is replaced and the next task runs', async () => {
    await using pool = new WorkerPool(2);
    await pool.start();
    const before = pool.pids;
    const dying = caught(pool.createTask(ref('exitProcess'), 7));
    const others = Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        pool.createTask<{ product: number }>(ref('multiply'), index, 3),
      ),
    );
    const error = await dying;
    expect(WorkerExitedError.isInstance(error)).toBe(true);
    expect(error.exitCode).toBe(7);
    expect((await others).map((result) => result.product)).toEqual([0, 3, 6, 9, 12, 15]);
    await expect(pool.createTask(ref('multiply'), 2, 2)).resolves.toMatchObject({ product: 4 });
    await waitFor(() => pool.pids.length === 2);
    expect(before.filter((pid) => pool.pids.includes(pid))).toHaveLength(1);
    expect(isAlive(error.pid)).toBe(false);
  });

  it('an aborted running task kills its process; a queued one is dropped', async () => {
    await using pool = new WorkerPool(1);
    await pool.start();
    const [pid] = pool.pids;
    const controller = new AbortController();
    const running = pool.submit(ref('spinForever'), [], { signal: controller.signal });
    const queuedController = new AbortController();
    const queued = pool.submit(ref('whoAmI'), [], { signal: queuedController.signal });
    queuedController.abort(new Error('dropped'));
    await expect(queued).rejects.toThrow('dropped');
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('cancelled'));
    await expect(running).rejects.toThrow('cancelled');
    const next = await pool.createTask<number>(ref('whoAmI'));
    expect(next).not.toBe(pid);
    await waitFor(() => !isAlive(pid!));
  });

  it('never runs a task twice when the aborted one had already finished in the child', async () => {
    await using pool = new WorkerPool(1, { prefetch: 1 });
    await pool.start();
    const runs = join(mkdtempSync(join(tmpdir(), 'aiomisc-pool-')), 'runs.log');
    const lines = () =>
      existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean) : [];
    const controller = new AbortController();
    const first = pool.submit(ref('appendLine'), [runs, 'first', 0], { signal: controller.signal });
    const second = pool.createTask(ref('appendLine'), runs, 'second', 10_000);
    const firstOutcome = first.catch((error: unknown) => error);
    const secondOutcome = second.catch((error: unknown) => error);
    // Block this thread until the child has finished the first task and started the second,
    // so the first task's result is still unread when it is aborted.
    const until = Date.now() + 10_000;
    while (lines().length < 2 && Date.now() < until);
    controller.abort(new Error('too late'));
    expect((await firstOutcome) as Error).toHaveProperty('message', 'too late');
    expect(WorkerExitedError.isInstance(await secondOutcome)).toBe(true);
    await pool.createTask(ref('whoAmI'));
    expect(lines()).toEqual(['first', 'second']);
  });

  it('cancels a task sent ahead to a busy process without killing the process; it never runs', async () => {
    await using pool = new WorkerPool(1, { prefetch: 1 });
    await pool.start();
    const [pid] = pool.pids;
    const marker = join(mkdtempSync(join(tmpdir(), 'aiomisc-pool-')), 'touched');
    const running = pool.createTask<{ pid: number }>(ref('interval'), 150);
    const controller = new AbortController();
    const ahead = pool.submit(ref('touchFile'), [marker], { signal: controller.signal });
    controller.abort(new Error('not wanted'));
    await expect(ahead).rejects.toThrow('not wanted');
    await expect(running).resolves.toMatchObject({ pid });
    await expect(pool.createTask(ref('whoAmI'))).resolves.toBe(pid);
    expect(existsSync(marker)).toBe(false);
    expect(pool.pids).toEqual([pid]);
  });

  it('runs the initializer in every process before its tasks', async () => {
    await using pool = new WorkerPool(2, {
      initializer: ref('initialize'),
      initializerArgs: ['ready'],
    });
    const values = await Promise.all(
      Array.from({ length: 4 }, () => pool.createTask(ref('readInitialized'))),
    );
    expect(values).toEqual(['ready', 'ready', 'ready', 'ready']);
  });

  it('a failing initializer fails the pending tasks and closes the pool', async () => {
    const pool = new WorkerPool(1, { initializer: ref('failInitialize') });
    const error = await caught(pool.createTask(ref('whoAmI')));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('initializer failed');
    await pool.close();
    expect(pool.closed).toBe(true);
    expect(pool.pids).toEqual([]);
  });

  it('leaves no child alive after close, and refuses tasks after it', async () => {
    const pool = new WorkerPool(3);
    await pool.start();
    const pids = pool.pids;
    expect(pids).toHaveLength(3);
    const running = caught(pool.createTask(ref('spinForever')));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await pool.close();
    expect(PoolClosedError.isInstance(await running)).toBe(true);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    const late = await caught(pool.createTask(ref('whoAmI')));
    expect(PoolClosedError.isInstance(late)).toBe(true);
  });

  it('rejects bad input', async () => {
    expect(InvalidArgumentError.isInstance(catchSync(() => new WorkerPool(0)))).toBe(true);
    expect(
      InvalidArgumentError.isInstance(
        catchSync(() => new WorkerPool(1, { initializer: 'nope' as never })),
      ),
    ).toBe(true);
    await using pool = new WorkerPool(1);
    expect(() => pool.createTask((() => 1) as never)).toThrow();
    const missing = await caught(pool.createTask(ref('notThere')));
    expect(FunctionNotFoundError.isInstance(missing)).toBe(true);
  });
});

describe('ProcessPoolExecutor', () => {
  it('lets queued and running tasks finish at close, then stops every process', async () => {
    const pool = new ProcessPoolExecutor(2, { statisticName: 'ppe' });
    const pending = Array.from({ length: 4 }, () => pool.submit<number>(ref('sleepThenPid'), [30]));
    await waitFor(() => pool.pids.length === 2);
    const pids = pool.pids;
    await pool.close();
    const results = await Promise.all(pending);
    for (const pid of results) expect(pids).toContain(pid);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(getStatisticsOf('ProcessPoolStatistic', 'ppe')).toMatchObject({
      submitted: 4,
      success: 4,
      processes: 0,
    });
    expect(PoolClosedError.isInstance(await caught(pool.submit(ref('whoAmI'))))).toBe(true);
  });
});
