import { describe, expect, it } from 'vitest';
import { awaitable, cancelTasks, createTask, select, sleep, Task } from '../src/index';

function abortable(value: string, ms: number, log: string[]) {
  return (signal: AbortSignal) =>
    sleep(ms, { signal }).then(
      () => value,
      (error: unknown) => {
        log.push(`${value} aborted`);
        throw error;
      },
    );
}

describe('select', () => {
  it('returns the first result at its index and undefined elsewhere', async () => {
    const log: string[] = [];
    const result = await select(abortable('slow', 1000, log), abortable('fast', 1, log));
    const [slow, fast] = result;
    expect([slow, fast]).toEqual([undefined, 'fast']);
    expect(result.result()).toBe('fast');
    expect(result.resultIndex).toBe(1);
    expect(result.done()).toBe(true);
    expect(log).toEqual(['slow aborted']);
  });

  it('leaves the losers running with cancel: false', async () => {
    const log: string[] = [];
    const loser = createTask(abortable('slow', 20, log));
    const result = await select(loser, abortable('fast', 1, log), { cancel: false });
    expect(result.result()).toBe('fast');
    await expect(loser).resolves.toBe('slow');
    expect(log).toEqual([]);
  });

  it('accepts plain promises', async () => {
    const result = await select(new Promise(() => {}), Promise.resolve(7));
    expect(result.at(1)).toBe(7);
  });

  it('rejects with the winner error, or returns it with returnExceptions', async () => {
    const log: string[] = [];
    const failing = async () => {
      throw new Error('boom');
    };
    await expect(select(failing, abortable('slow', 1000, log))).rejects.toThrow('boom');
    expect(log).toEqual(['slow aborted']);
    const result = await select(failing, abortable('slow', 1000, log), { returnExceptions: true });
    expect(result.isException).toBe(true);
    expect((result.result() as unknown as Error).message).toBe('boom');
  });

  it('aborts everything when its own signal aborts', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const pending = select(abortable('a', 1000, log), abortable('b', 1000, log), {
      signal: controller.signal,
    });
    controller.abort(new Error('give up'));
    await expect(pending).rejects.toThrow('give up');
    expect(log.sort()).toEqual(['a aborted', 'b aborted']);
  });
});

describe('cancelTasks', () => {
  it('aborts pending tasks, leaves done ones, and waits for all', async () => {
    const log: string[] = [];
    const done = createTask(() => 'done');
    await done;
    const pending = [createTask(abortable('a', 1000, log)), createTask(abortable('b', 1000, log))];
    await cancelTasks(done, ...pending);
    expect(log).toEqual(['a aborted', 'b aborted']);
    expect(pending.every((task) => task.done && task.signal.aborted)).toBe(true);
    expect(done.signal.aborted).toBe(false);
    await expect(done).resolves.toBe('done');
    await cancelTasks();
  });

  it('turns a synchronous throw into a rejected task', async () => {
    const task = new Task(() => {
      throw new Error('sync');
    });
    await expect(task).rejects.toThrow('sync');
  });
});

describe('awaitable', () => {
  it('always returns a promise, keeping a returned promise as is', async () => {
    const promise = Promise.resolve(1);
    expect(awaitable(() => promise)()).toBe(promise);
    await expect(awaitable((a: number, b: number) => a + b)(2, 3)).resolves.toBe(5);
    await expect(
      awaitable(() => {
        throw new Error('sync');
      })(),
    ).rejects.toThrow('sync');
  });
});

describe('sleep', () => {
  it('rejects with the abort reason', async () => {
    const controller = new AbortController();
    const pending = sleep(1000, { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await expect(sleep(1, { signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow(
      'early',
    );
  });
});
