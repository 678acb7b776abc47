import { hostname } from 'node:os';
import {
  expectNumber,
  expectOneOf,
  getLogger,
  InvalidArgumentError,
  setLongTimeout,
} from '@aiomisc/core';
import type { LongTimeout } from '@aiomisc/core';
import type * as Redis from 'redis';

/** The part of a Redis client the lock uses: `SET key value NX PX ttl` (node-redis v5 shape). */
export interface RedisLockClient {
  set(
    key: string,
    value: string,
    options:
      { NX: true; PX: number } | { condition: 'NX'; expiration: { type: 'PX'; value: number } },
  ): Promise<unknown>;
}

/** Options of the replica lock of a {@link CronService} (`lock` option). */
export interface CronLockOptions {
  /**
   * A `redis://` URL (the service then makes, connects and closes a node-redis client; the
   * optional peer `redis` must be installed) or a connected client you own.
   */
  redis: string | RedisLockClient;
  /** Prefix of the lock keys; the key is `<prefix><job name>:<due time ISO>`. @default 'aiomisc:cron:' */
  prefix?: string;
  /** How long a lock key lives, in ms: longer than the clock skew between replicas. @default 60000 */
  ttl?: number;
  /** How long to wait for Redis before the lock counts as failed, in ms. @default 1000 */
  timeout?: number;
  /**
   * What a replica does with a due run when Redis cannot be asked (down, frozen, timeout):
   * `'skip'` it (no replica runs it twice, but none may run it), or `'run'` it locally
   * (every replica may run it). @default 'skip'
   */
  onError?: 'skip' | 'run';
}

const log = getLogger('aiomisc.cron.lock');
const owner = `${hostname()}:${process.pid}`;

/** @internal the resolved lock: one per CronService. */
export class CronLock {
  readonly prefix: string;
  readonly ttl: number;
  readonly timeout: number;
  readonly onError: 'skip' | 'run';
  readonly #source: string | RedisLockClient;
  #client: RedisLockClient | undefined;
  #owned: { destroy(): void; close?(): Promise<unknown> } | undefined;
  #lastErrorLog = 0;

  constructor(options: CronLockOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('lock', options, 'an object with a redis URL or client');
    }
    const { redis } = options;
    const isUrl = typeof redis === 'string' && /^rediss?:\/\//.test(redis);
    const isClient =
      typeof redis === 'object' &&
      redis !== null &&
      typeof (redis as { set?: unknown }).set === 'function';
    if (!isUrl && !isClient) {
      throw new InvalidArgumentError(
        'lock.redis',
        typeof redis === 'string' ? redacted(redis) : redis,
        'a redis:// URL or a client with set()',
      );
    }
    this.#source = redis;
    this.prefix = options.prefix ?? 'aiomisc:cron:';
    if (typeof this.prefix !== 'string')
      throw new InvalidArgumentError('lock.prefix', this.prefix, 'a string');
    this.ttl = expectNumber('lock.ttl', options.ttl ?? 60_000, { min: 1, integer: true });
    this.timeout = expectNumber('lock.timeout', options.timeout ?? 1000, { min: 1 });
    this.onError = expectOneOf('lock.onError', options.onError ?? 'skip', ['skip', 'run']);
  }

  /** Makes and connects the client for a URL (not awaiting the connection: Redis may be down). */
  async open(): Promise<void> {
    if (typeof this.#source !== 'string') {
      this.#client = this.#source;
      return;
    }
    if (this.#client) return;
    let redis: typeof Redis;
    try {
      redis = await import('redis');
    } catch (error) {
      throw new InvalidArgumentError(
        'lock.redis',
        redacted(this.#source),
        `usable with the optional peer dependency "redis" installed (pnpm add redis): ${String(error)}`,
      );
    }
    const client = redis.createClient({
      url: this.#source,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: this.timeout,
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
      },
    });
    client.on('error', (error: unknown) => this.#logError(error));
    client.connect().catch((error: unknown) => this.#logError(error));
    this.#client = client;
    this.#owned = client;
  }

  /** Closes a client this lock made. */
  close(): void {
    const owned = this.#owned;
    this.#owned = undefined;
    this.#client = undefined;
    owned?.destroy();
  }

  /**
   * Tries to take the lock of one due run. Resolves true when this replica runs it, false
   * when another one does, and follows `onError` when Redis cannot answer in time.
   */
  async acquire(job: string, dueAt: number): Promise<boolean> {
    const client = this.#client;
    const key = `${this.prefix}${job}:${new Date(dueAt).toISOString()}`;
    let timer: LongTimeout | undefined;
    try {
      if (!client) throw new Error('the lock is not open');
      const answer = await Promise.race([
        client.set(key, owner, { NX: true, PX: this.ttl }),
        new Promise<never>((_, reject) => {
          timer = setLongTimeout(
            () => reject(new Error(`no answer from Redis in ${this.timeout} ms`)),
            this.timeout,
          );
        }),
      ]);
      return answer === 'OK';
    } catch (error) {
      this.#logError(error, `${job}: cannot take the lock of the run due at ${key.slice(-24)}`);
      return this.onError === 'run';
    } finally {
      timer?.clear();
    }
  }

  #logError(error: unknown, message = 'Redis error'): void {
    // One line per 10 s at most while Redis is down, not one per reconnect attempt.
    const now = Date.now();
    if (now - this.#lastErrorLog < 10_000) return;
    this.#lastErrorLog = now;
    const reason = error instanceof Error ? error.message : String(error);
    log.warn(
      `${message}: ${reason}; due runs are ${this.onError === 'skip' ? 'skipped' : 'run locally'} until Redis answers`,
    );
  }
}

/** A Redis URL without its password, for messages. */
function redacted(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
