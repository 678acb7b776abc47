import { performance } from 'node:perf_hooks';
import {
  expectNumber,
  getLogger,
  InvalidArgumentError,
  setLongTimeout,
  Statistic,
  type LongTimeout,
} from '@aiomisc/core';
import { AcquireTimeoutError } from './errors/acquire-timeout-error';
import { PoolClosedError } from './errors/pool-closed-error';

const log = getLogger('aiomisc.pool');

/**
 * Counters of a {@link PoolBase}, shown by `getStatistics('PoolBaseStatistic')`.
 *
 * @example
 * ```ts
 * new RedisPool({ maxSize: 10, statisticName: 'redis' });
 * console.log(getStatistics('PoolBaseStatistic'));
 * ```
 */
export class PoolBaseStatistic extends Statistic {
  readonly kind = 'PoolBaseStatistic';
  /** Live instances (idle + in use). */
  instances = 0;
  /** `acquire()` calls. */
  submitted = 0;
  /** Acquires that ended (success + error). */
  done = 0;
  /** Acquires that got an instance. */
  success = 0;
  /** Acquires that failed (closed, aborted, timed out, creation failed). */
  error = 0;
  /** Total time spent waiting in `acquire()`, in milliseconds. */
  sum_time = 0;
  /** Instances created. */
  created = 0;
  /** Instances destroyed. */
  destroyed = 0;
  /** Checks that failed (returned false or threw). */
  check_failed = 0;
}

/** Options of {@link PoolBase}. */
export interface PoolBaseOptions {
  /** Most instances alive at once. @default 10 */
  maxSize?: number;
  /** Instances older than this (ms) are destroyed and replaced instead of reused; null = never. @default null */
  recycle?: number | null;
  /** Name of the pool's statistic in `getStatistics()`. @default null */
  statisticName?: string | null;
}

/** Options of {@link PoolBase.acquire}. */
export interface AcquireOptions {
  /** Gives up waiting; rejects with `signal.reason`. @default undefined */
  signal?: AbortSignal;
  /** Gives up after this many ms with {@link AcquireTimeoutError}. @default undefined (no limit) */
  timeout?: number;
}

interface Slot<TInstance> {
  instance: TInstance;
  created: number;
  destroyed: boolean;
}

/** One use of a pooled instance: release it (or let `await using` do it) to return it. */
export interface PoolLease<TInstance> extends AsyncDisposable {
  /** The instance, yours until released. */
  readonly instance: TInstance;
  /** Returns the instance to the pool; later calls do nothing. */
  release(): void;
  /** Destroys the instance instead of returning it (it is broken); later calls do nothing. */
  discard(): Promise<void>;
}

type Grant<TInstance> = Slot<TInstance> | 'create';

/**
 * One `acquire()` that could not be served at once. It waits in the queue, or creates or
 * checks an instance, and ends with a slot or an error; its timeout, its signal or `close()`
 * can end it earlier. Work still running then (a hanging create or check) gives the instance it
 * yields later back to the pool.
 */
interface Attempt<TInstance> {
  done: boolean;
  resolve: (slot: Slot<TInstance>) => void;
  reject: (error: unknown) => void;
  timer: LongTimeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

class Lease<TInstance> implements PoolLease<TInstance> {
  #pool: PoolBase<TInstance> | undefined;
  readonly #slot: Slot<TInstance>;

  constructor(pool: PoolBase<TInstance>, slot: Slot<TInstance>) {
    this.#pool = pool;
    this.#slot = slot;
  }

  get instance(): TInstance {
    return this.#slot.instance;
  }

  release(): void {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) releaseSlot(pool, this.#slot);
  }

  async discard(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) await discardSlot(pool, this.#slot);
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

let releaseSlot: <TInstance>(pool: PoolBase<TInstance>, slot: Slot<TInstance>) => void;
let discardSlot: <TInstance>(pool: PoolBase<TInstance>, slot: Slot<TInstance>) => Promise<void>;

/**
 * A pool of reusable instances (connections, clients) that you describe by subclassing:
 * `createInstance()`, `destroyInstance(instance)` and, optionally, `checkInstance(instance)`.
 * At most `maxSize` instances exist; acquirers beyond that wait in order (FIFO). An instance
 * older than `recycle` ms is destroyed and replaced rather than reused. When defined,
 * `checkInstance` runs before an idle instance is handed out; an instance that fails it
 * (false or a throw) is destroyed and another is taken or created.
 *
 * Unlike the Python (which hands out an instance whose check raised), a failed check never
 * reaches the caller; unlike generic-pool and tarn, `acquire()` takes an AbortSignal and a
 * timeout, fails at once after `close()`, and a `createInstance` that fails rejects the acquirer
 * it was creating for, so a broken backend surfaces its error instead of spinning.
 *
 * @example
 * ```ts
 * class RedisPool extends PoolBase<RedisClientType> {
 *   constructor(private readonly url: string) {
 *     super({ maxSize: 10, recycle: 60_000 });
 *   }
 *   protected async createInstance() {
 *     return createClient({ url: this.url }).connect();
 *   }
 *   protected async destroyInstance(client: RedisClientType) {
 *     await client.quit();
 *   }
 *   protected override async checkInstance(client: RedisClientType) {
 *     return (await client.ping()) === 'PONG';
 *   }
 * }
 *
 * await using pool = new RedisPool('redis://localhost');
 * {
 *   await using lease = await pool.acquire();
 *   await lease.instance.set('foo', 'bar');
 * }
 * console.log(await pool.use((client) => client.get('foo')));
 * ```
 */
export abstract class PoolBase<TInstance> implements AsyncDisposable {
  /** Most instances alive at once. */
  readonly maxSize: number;
  /** Lifetime of an instance in ms, or null. */
  readonly recycle: number | null;
  readonly #statistic: PoolBaseStatistic;
  readonly #idle: Array<Slot<TInstance>> = [];
  readonly #used = new Set<Slot<TInstance>>();
  /** Acquires waiting for a slot, in arrival order. */
  readonly #waiters: Array<Attempt<TInstance>> = [];
  /** Acquires creating or checking an instance; close() ends them too. */
  readonly #working = new Set<Attempt<TInstance>>();
  #size = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #hasCheck: boolean;

  /** @throws {@link InvalidArgumentError} for maxSize < 1 or recycle <= 0. */
  constructor(options: PoolBaseOptions = {}) {
    this.maxSize = expectNumber('maxSize', options.maxSize ?? 10, { min: 1, integer: true });
    const recycle = options.recycle ?? null;
    if (
      recycle !== null &&
      !(typeof recycle === 'number' && recycle > 0 && Number.isFinite(recycle))
    ) {
      throw new InvalidArgumentError('recycle', recycle, 'a finite number > 0 or null');
    }
    this.recycle = recycle;
    this.#statistic = new PoolBaseStatistic(options.statisticName);
    // Checking is opt-in: a subclass that does not override checkInstance pays nothing for it.
    this.#hasCheck = this.checkInstance !== PoolBase.prototype.checkInstance;
  }

  /** Makes a new instance. */
  protected abstract createInstance(): Promise<TInstance>;
  /** Destroys an instance (close the connection). */
  protected abstract destroyInstance(instance: TInstance): Promise<void>;
  /**
   * Tells whether an idle instance is still usable before it is handed out. Override it to
   * check; the default accepts every instance and is skipped.
   */
  protected checkInstance(_instance: TInstance): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** Live instances (idle + in use), the Python `len(pool)`. */
  get size(): number {
    return this.#size;
  }

  /** Instances waiting to be acquired. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Acquirers waiting for an instance. */
  get pending(): number {
    return this.#waiters.length;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Takes an instance: an idle one (oldest first), a new one while fewer than `maxSize` exist,
   * else the next one released, in the order acquirers arrived.
   * @throws {@link PoolClosedError} (rejects at once) after `close()`, and for waiters when it closes.
   * @throws {@link AcquireTimeoutError} when `timeout` expires; `signal.reason` when aborted.
   * @throws whatever `createInstance` threw, to the acquirer it was creating for.
   */
  async acquire(options?: AcquireOptions): Promise<PoolLease<TInstance>> {
    const statistic = this.#statistic;
    statistic.submitted++;
    const started = performance.now();
    try {
      const timeout = options?.timeout;
      if (timeout !== undefined) expectNumber('timeout', timeout, { min: 0 });
      const signal = options?.signal;
      if (signal !== undefined && !(signal instanceof AbortSignal))
        throw new InvalidArgumentError('signal', signal, 'an AbortSignal');
      if (this.#closed) throw new PoolClosedError();
      signal?.throwIfAborted();
      // The common case, an idle instance with nothing to check, is served at once.
      let slot: Slot<TInstance> | undefined;
      if (this.#waiters.length === 0 && !this.#hasCheck) {
        while (this.#idle.length > 0) {
          const idle = this.#idle.shift()!;
          if (!this.#expired(idle)) {
            slot = idle;
            break;
          }
          void this.#destroy(idle);
        }
      }
      if (slot) this.#used.add(slot);
      else slot = await this.#attempt(timeout, signal);
      statistic.success++;
      return new Lease(this, slot);
    } catch (error) {
      statistic.error++;
      throw error;
    } finally {
      statistic.done++;
      statistic.sum_time += performance.now() - started;
    }
  }

  /**
   * Acquires an instance, calls `fn` with it and releases it, whatever `fn` does.
   *
   * @example
   * ```ts
   * const value = await pool.use((client) => client.get('foo'));
   * ```
   */
  async use<TResult>(
    fn: (instance: TInstance) => TResult | Promise<TResult>,
    options?: AcquireOptions,
  ): Promise<TResult> {
    const lease = await this.acquire(options);
    try {
      return await fn(lease.instance);
    } finally {
      lease.release();
    }
  }

  /** An acquire that waits, creates or checks, bounded by its timeout, signal and close(). */
  #attempt(timeout: number | undefined, signal: AbortSignal | undefined): Promise<Slot<TInstance>> {
    return new Promise<Slot<TInstance>>((resolve, reject) => {
      const attempt: Attempt<TInstance> = {
        done: false,
        resolve,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        attempt.onAbort = () => this.#end(attempt, signal.reason);
        signal.addEventListener('abort', attempt.onAbort, { once: true });
      }
      if (timeout !== undefined)
        attempt.timer = setLongTimeout(
          () => this.#end(attempt, new AcquireTimeoutError(timeout)),
          timeout,
        );
      this.#step(attempt);
    });
  }

  /** Takes an idle instance, starts a create, or queues the attempt. */
  #step(attempt: Attempt<TInstance>): void {
    if (this.#closed) {
      this.#end(attempt, new PoolClosedError());
    } else if (this.#waiters.length === 0 && this.#idle.length > 0) {
      this.#grant(attempt, this.#idle.shift()!);
    } else if (this.#waiters.length === 0 && this.#size < this.maxSize) {
      this.#size++;
      this.#statistic.instances = this.#size;
      void this.#createFor(attempt);
    } else {
      this.#waiters.push(attempt);
    }
  }

  /** Hands a slot (or the right to create one) to an attempt that left the queue. */
  #grant(attempt: Attempt<TInstance>, grant: Grant<TInstance>): void {
    if (grant === 'create') {
      void this.#createFor(attempt);
    } else if (attempt.done) {
      this.#release(grant);
    } else if (this.#expired(grant)) {
      void this.#destroy(grant);
      this.#step(attempt);
    } else if (this.#hasCheck) {
      void this.#checkFor(attempt, grant);
    } else {
      this.#succeed(attempt, grant);
    }
  }

  async #createFor(attempt: Attempt<TInstance>): Promise<void> {
    this.#working.add(attempt);
    let slot: Slot<TInstance>;
    try {
      slot = await this.#create();
    } catch (error) {
      this.#working.delete(attempt);
      this.#end(attempt, error);
      return;
    }
    this.#working.delete(attempt);
    if (this.#closed) {
      void this.#destroy(slot);
      this.#end(attempt, new PoolClosedError());
    } else if (attempt.done) {
      this.#release(slot); // given up while creating: the instance is not lost
    } else {
      this.#succeed(attempt, slot);
    }
  }

  async #checkFor(attempt: Attempt<TInstance>, slot: Slot<TInstance>): Promise<void> {
    this.#working.add(attempt);
    const ok = await this.#check(slot);
    this.#working.delete(attempt);
    if (!ok) {
      if (!attempt.done) this.#step(attempt);
    } else if (this.#closed) {
      void this.#destroy(slot);
      this.#end(attempt, new PoolClosedError());
    } else if (attempt.done) {
      this.#release(slot);
    } else {
      this.#succeed(attempt, slot);
    }
  }

  #settled(attempt: Attempt<TInstance>): boolean {
    if (attempt.done) return false;
    attempt.done = true;
    attempt.timer?.clear();
    if (attempt.onAbort) attempt.signal!.removeEventListener('abort', attempt.onAbort);
    return true;
  }

  #succeed(attempt: Attempt<TInstance>, slot: Slot<TInstance>): void {
    if (!this.#settled(attempt)) {
      this.#release(slot);
      return;
    }
    this.#used.add(slot);
    attempt.resolve(slot);
  }

  /** Ends an attempt with an error: timeout, abort, close, or its create failed. */
  #end(attempt: Attempt<TInstance>, error: unknown): void {
    if (!this.#settled(attempt)) return;
    const index = this.#waiters.indexOf(attempt);
    if (index !== -1) this.#waiters.splice(index, 1);
    attempt.reject(error);
  }

  async #create(): Promise<Slot<TInstance>> {
    try {
      const instance = await this.createInstance();
      this.#statistic.created++;
      return { instance, created: Date.now(), destroyed: false };
    } catch (error) {
      // Free the slot for the next waiter, who will try again; this acquirer gets the error.
      this.#size--;
      this.#statistic.instances = this.#size;
      this.#wakeCreator();
      throw error;
    }
  }

  async #check(slot: Slot<TInstance>): Promise<boolean> {
    let ok: boolean;
    try {
      ok = await this.checkInstance(slot.instance);
    } catch (error) {
      log.warn({ err: error }, 'Pool instance check failed; replacing the instance');
      ok = false;
    }
    if (!ok) {
      this.#statistic.check_failed++;
      void this.#destroy(slot);
    }
    return ok;
  }

  #expired(slot: Slot<TInstance>): boolean {
    return this.recycle !== null && Date.now() - slot.created >= this.recycle;
  }

  /** Frees the slot of `slot` and destroys it in the background. */
  #destroy(slot: Slot<TInstance>): Promise<void> {
    if (slot.destroyed) return Promise.resolve();
    slot.destroyed = true;
    this.#used.delete(slot);
    this.#size--;
    this.#statistic.instances = this.#size;
    this.#statistic.destroyed++;
    this.#wakeCreator();
    return this.destroyInstance(slot.instance).catch((error: unknown) => {
      log.error({ err: error }, 'Destroying a pool instance failed');
    });
  }

  /** A slot is free: let the first waiter create an instance in it. */
  #wakeCreator(): void {
    if (this.#closed || this.#size >= this.maxSize) return;
    const waiter = this.#waiters.shift();
    if (!waiter) return;
    this.#size++;
    this.#statistic.instances = this.#size;
    this.#grant(waiter, 'create');
  }

  static {
    releaseSlot = <TInstance>(pool: PoolBase<TInstance>, slot: Slot<TInstance>): void =>
      pool.#release(slot);
    discardSlot = <TInstance>(pool: PoolBase<TInstance>, slot: Slot<TInstance>): Promise<void> =>
      pool.#destroy(slot);
  }

  #release(slot: Slot<TInstance>): void {
    if (slot.destroyed) return;
    this.#used.delete(slot);
    if (this.#closed || this.#expired(slot)) {
      void this.#destroy(slot);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) this.#grant(waiter, slot);
    else this.#idle.push(slot);
  }

  /**
   * Closes the pool: waiting acquirers reject with {@link PoolClosedError}, later acquires fail
   * at once, and every instance, idle or in use, is destroyed (errors are logged). Calling it
   * again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    // Waiting, creating or checking: each acquire ends now; a create or check still running
    // destroys its instance when it is done (the pool is closed).
    for (const attempt of [...this.#working, ...this.#waiters])
      this.#end(attempt, new PoolClosedError());
    const slots = [...this.#idle.splice(0), ...this.#used];
    this.#closing = Promise.all(slots.map((slot) => this.#destroy(slot))).then(() => undefined);
    return this.#closing;
  }

  /** Same as {@link PoolBase.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
