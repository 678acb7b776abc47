import { InvalidArgumentError } from '@aiomisc/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AcquireTimeoutError,
  caught,
  catchSync,
  getStatisticsOf,
  PoolBase,
  PoolClosedError,
  type PoolBaseOptions,
} from './helpers';

interface Resource {
  id: number;
  healthy: boolean;
}

class TestPool extends PoolBase<Resource> {
  created: Resource[] = [];
  destroyed: number[] = [];
  failCreate: Error | undefined;
  createCalls = 0;

  constructor(options?: PoolBaseOptions) {
    super(options);
  }

  protected async createInstance(): Promise<Resource> {
    this.createCalls++;
    await Promise.resolve();
    if (this.failCreate) throw this.failCreate;
    const resource = { id: this.created.length + 1, healthy: true };
    this.created.push(resource);
    return resource;
  }

  protected async destroyInstance(instance: Resource): Promise<void> {
    await Promise.resolve();
    this.destroyed.push(instance.id);
  }
}

class CheckedPool extends TestPool {
  checks = 0;
  throwOnCheck = false;

  protected override async checkInstance(instance: Resource): Promise<boolean> {
    this.checks++;
    await Promise.resolve();
    if (this.throwOnCheck) throw new Error('check exploded');
    return instance.healthy;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('PoolBase', () => {
  it('creates at most maxSize instances under 1,000 concurrent users', async () => {
    const pool = new TestPool({ maxSize: 4, statisticName: 'pb-concurrency' });
    let inUse = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 1000 }, () =>
        pool.use(async () => {
          inUse++;
          peak = Math.max(peak, inUse);
          await Promise.resolve();
          inUse--;
        }),
      ),
    );
    expect(pool.size).toBe(4);
    expect(peak).toBe(4);
    expect(pool.created).toHaveLength(4);
    expect(getStatisticsOf('PoolBaseStatistic', 'pb-concurrency')).toMatchObject({
      submitted: 1000,
      success: 1000,
      instances: 4,
    });
    await pool.close();
    expect(pool.destroyed.sort()).toEqual([1, 2, 3, 4]);
  });

  it('reuses idle instances, oldest first', async () => {
    const pool = new TestPool({ maxSize: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    a.release();
    b.release();
    const first = await pool.acquire();
    const second = await pool.acquire();
    expect([first.instance.id, second.instance.id]).toEqual([a.instance.id, b.instance.id]);
    expect(pool.created).toHaveLength(2);
    await pool.close();
  });

  it('serves waiting acquirers in the order they arrived', async () => {
    const pool = new TestPool({ maxSize: 1 });
    const holder = await pool.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((index) =>
      pool.acquire().then((lease) => {
        order.push(index);
        lease.release();
      }),
    );
    expect(pool.pending).toBe(3);
    holder.release();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    await pool.close();
  });

  it('await using releases the lease; release twice is harmless', async () => {
    const pool = new TestPool({ maxSize: 1 });
    {
      await using lease = await pool.acquire();
      expect(lease.instance.id).toBe(1);
      expect(pool.idle).toBe(0);
    }
    expect(pool.idle).toBe(1);
    const lease = await pool.acquire();
    lease.release();
    lease.release();
    expect(pool.idle).toBe(1);
    await pool.close();
  });

  it('use() releases the instance when the callback throws', async () => {
    const pool = new TestPool({ maxSize: 1 });
    await expect(pool.use(() => Promise.reject(new Error('inner')))).rejects.toThrow('inner');
    expect(pool.idle).toBe(1);
    await expect(pool.use((resource) => resource.id)).resolves.toBe(1);
    await pool.close();
  });

  it('replaces an instance whose check fails or throws, never handing it out', async () => {
    const pool = new CheckedPool({ maxSize: 1, statisticName: 'pb-check' });
    const first = await pool.acquire();
    expect(pool.checks).toBe(0); // a fresh instance is not checked
    first.instance.healthy = false;
    first.release();
    const second = await pool.acquire();
    expect(second.instance.id).toBe(2);
    expect(pool.destroyed).toEqual([1]);
    second.release();
    pool.throwOnCheck = true;
    const third = await pool.acquire();
    expect(third.instance.id).toBe(3);
    expect(pool.destroyed).toEqual([1, 2]);
    expect(getStatisticsOf('PoolBaseStatistic', 'pb-check').check_failed).toBe(2);
    third.release();
    await pool.close();
  });

  it('recycles instances older than recycle ms', async () => {
    vi.useFakeTimers();
    const pool = new TestPool({ maxSize: 1, recycle: 1000 });
    const first = await pool.acquire();
    first.release();
    await vi.advanceTimersByTimeAsync(500);
    const again = await pool.acquire();
    expect(again.instance.id).toBe(1);
    await vi.advanceTimersByTimeAsync(600);
    again.release(); // 1,100 ms old: destroyed instead of returned
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.destroyed).toEqual([1]);
    const fresh = await pool.acquire();
    expect(fresh.instance.id).toBe(2);
    fresh.release();
    await pool.close();
  });

  it('discard() destroys the instance and frees its slot', async () => {
    const pool = new TestPool({ maxSize: 1 });
    const lease = await pool.acquire();
    const waiting = pool.acquire();
    await lease.discard();
    const next = await waiting;
    expect(next.instance.id).toBe(2);
    expect(pool.destroyed).toEqual([1]);
    await pool.close();
  });

  it('gives a failing createInstance error to the acquirer, without retrying in a loop', async () => {
    const pool = new TestPool({ maxSize: 1 });
    pool.failCreate = new Error('backend down');
    await expect(pool.acquire()).rejects.toThrow('backend down');
    expect(pool.createCalls).toBe(1);
    expect(pool.size).toBe(0);
    pool.failCreate = undefined;
    const lease = await pool.acquire();
    expect(lease.instance.id).toBe(1);
    lease.release();
    await pool.close();
  });

  it('surfaces the creation error to a waiter that was promised the freed slot', async () => {
    const pool = new TestPool({ maxSize: 1 });
    const holder = await pool.acquire();
    const waiter = pool.acquire();
    pool.failCreate = new Error('still down');
    await holder.discard();
    await expect(waiter).rejects.toThrow('still down');
    expect(pool.createCalls).toBe(2);
    await pool.close();
  });

  it('times out and aborts waiting acquirers', async () => {
    vi.useFakeTimers();
    const pool = new TestPool({ maxSize: 1 });
    const holder = await pool.acquire();
    const timed = caught(pool.acquire({ timeout: 100 }));
    await vi.advanceTimersByTimeAsync(100);
    const timeoutError = await timed;
    expect(AcquireTimeoutError.isInstance(timeoutError)).toBe(true);
    expect(timeoutError.timeoutMs).toBe(100);
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal });
    const reason = new Error('gave up');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    await expect(pool.acquire({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(pool.pending).toBe(0);
    holder.release();
    expect(pool.idle).toBe(1);
    await pool.close();
  });

  it('close() rejects waiters, destroys everything, and later acquires fail at once', async () => {
    const pool = new TestPool({ maxSize: 1 });
    const holder = await pool.acquire();
    const waiter = caught(pool.acquire());
    await pool.close();
    expect(PoolClosedError.isInstance(await waiter)).toBe(true);
    expect(pool.destroyed).toEqual([1]);
    holder.release();
    expect(PoolClosedError.isInstance(await caught(pool.acquire()))).toBe(true);
    expect(pool.closed).toBe(true);
  });

  it('rejects bad options', () => {
    expect(InvalidArgumentError.isInstance(catchSync(() => new TestPool({ maxSize: 0 })))).toBe(
      true,
    );
    expect(InvalidArgumentError.isInstance(catchSync(() => new TestPool({ recycle: 0 })))).toBe(
      true,
    );
    expect(InvalidArgumentError.isInstance(catchSync(() => new TestPool({ recycle: -5 })))).toBe(
      true,
    );
  });

  describe('an acquire whose create or check never settles', () => {
    class HangingPool extends PoolBase<Resource> {
      hangCreate = true;
      hangCheck = false;
      destroyed: number[] = [];
      pendingCreates: Array<(resource: Resource) => void> = [];
      nextId = 1;

      protected createInstance(): Promise<Resource> {
        const resource = { id: this.nextId++, healthy: true };
        if (!this.hangCreate) return Promise.resolve(resource);
        return new Promise((resolve) => this.pendingCreates.push(() => resolve(resource)));
      }

      protected destroyInstance(instance: Resource): Promise<void> {
        this.destroyed.push(instance.id);
        return Promise.resolve();
      }

      protected override checkInstance(): Promise<boolean> {
        return this.hangCheck ? new Promise(() => undefined) : Promise.resolve(true);
      }
    }

    it('is ended by its timeout, its signal, and close()', async () => {
      const pool = new HangingPool({ maxSize: 4 });
      const timed = caught(pool.acquire({ timeout: 20 }));
      const controller = new AbortController();
      const aborted = caught(pool.acquire({ signal: controller.signal }));
      const plain = caught(pool.acquire());
      const timeoutError = await timed;
      expect(AcquireTimeoutError.isInstance(timeoutError)).toBe(true);
      const reason = new Error('gave up');
      controller.abort(reason);
      expect(await aborted).toBe(reason);
      await pool.close();
      expect(PoolClosedError.isInstance(await plain)).toBe(true);
      // The creates finish late: their instances are destroyed, not leaked.
      for (const finish of pool.pendingCreates) finish({ id: 0, healthy: true });
      await new Promise((resolve) => setImmediate(resolve));
      expect(pool.destroyed.sort()).toEqual([1, 2, 3]);
    });

    it('gives a late instance back to the pool when its acquirer left', async () => {
      const pool = new HangingPool({ maxSize: 1 });
      expect(AcquireTimeoutError.isInstance(await caught(pool.acquire({ timeout: 10 })))).toBe(
        true,
      );
      expect(pool.size).toBe(1);
      const next = pool.acquire();
      pool.pendingCreates[0]!({ id: 0, healthy: true });
      const lease = await next;
      expect(lease.instance.id).toBe(1);
      lease.release();
      await pool.close();
    });

    it('is ended the same way while checking an idle instance', async () => {
      const pool = new HangingPool({ maxSize: 1 });
      pool.hangCreate = false;
      (await pool.acquire()).release();
      pool.hangCheck = true;
      expect(AcquireTimeoutError.isInstance(await caught(pool.acquire({ timeout: 10 })))).toBe(
        true,
      );
      const pending = caught(pool.acquire());
      await pool.close();
      expect(PoolClosedError.isInstance(await pending)).toBe(true);
    });
  });

  it('rejects a bad timeout at once, busy or not', async () => {
    const pool = new TestPool({ maxSize: 1 });
    for (const timeout of ['soon', -1, Number.NaN]) {
      const error = await caught(pool.acquire({ timeout: timeout as never }));
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error.argument).toBe('timeout');
    }
    const holder = await pool.acquire();
    const error = await caught(pool.acquire({ timeout: 'soon' as never }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(pool.pending).toBe(0);
    expect(
      InvalidArgumentError.isInstance(await caught(pool.acquire({ signal: 'no' as never }))),
    ).toBe(true);
    holder.release();
    await pool.close();
  });

  it('keeps a timeout of 2^31 ms and more (no 1 ms clamp)', async () => {
    vi.useFakeTimers();
    const pool = new TestPool({ maxSize: 1 });
    const holder = await pool.acquire();
    let settled = false;
    const waiter = pool.acquire({ timeout: 2 ** 31 }).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(settled).toBe(false);
    holder.release();
    const again = await waiter;
    const other = caught(pool.acquire({ timeout: 2 ** 31 + 5 }));
    await vi.advanceTimersByTimeAsync(2 ** 31 + 5);
    expect(AcquireTimeoutError.isInstance(await other)).toBe(true);
    again.release();
    await pool.close();
  });
});
