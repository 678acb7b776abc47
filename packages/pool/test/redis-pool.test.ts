import { startRedisServer, systemCommand } from '@aiomisc/test-kit';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcquireTimeoutError, caught, PoolBase, PoolClosedError } from './helpers';

type Redis = ReturnType<typeof createClient>;

/** The seed's RedisPool example (2.5), on the `redis` client. */
class RedisPool extends PoolBase<Redis> {
  readonly url: string;
  readonly connections: Redis[] = [];

  constructor(url: string, maxSize = 10, recycle: number | null = 60_000) {
    super({ maxSize, recycle });
    this.url = url;
  }

  protected async createInstance(): Promise<Redis> {
    const client = createClient({ url: this.url });
    // A dropped connection is noticed by the PING check; no 'error' listener would crash.
    client.on('error', () => undefined);
    await client.connect();
    this.connections.push(client);
    return client;
  }

  protected async destroyInstance(instance: Redis): Promise<void> {
    if (instance.isOpen) await instance.close();
  }

  protected override async checkInstance(instance: Redis): Promise<boolean> {
    try {
      return (await instance.ping()) === 'PONG';
    } catch {
      return false;
    }
  }
}

const available = systemCommand('redis-server', { install: 'apt-get install redis-server' });

let server: Awaited<ReturnType<typeof startRedisServer>> | undefined;
let url: string;

beforeAll(async () => {
  if (!available) return;
  server = await startRedisServer();
  url = server.url;
});

afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!available)('PoolBase with a real Redis server', () => {
  it('sets and gets through pooled connections, as the seed example does', async () => {
    await using pool = new RedisPool(url);
    {
      await using lease = await pool.acquire();
      await lease.instance.set('foo', 'bar');
    }
    {
      await using lease = await pool.acquire();
      expect(await lease.instance.get('foo')).toBe('bar');
    }
    expect(pool.size).toBe(1);
  });

  it('shares at most maxSize connections among many concurrent users', async () => {
    const pool = new RedisPool(url, 3);
    const values = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        pool.use(async (client) => {
          await client.set(`key:${index}`, String(index));
          return client.get(`key:${index}`);
        }),
      ),
    );
    expect(values).toEqual(Array.from({ length: 50 }, (_, index) => String(index)));
    expect(pool.size).toBe(3);
    await pool.close();
    expect(pool.connections.every((client) => !client.isOpen)).toBe(true);
  });

  it('replaces a connection that fails its PING check', async () => {
    await using pool = new RedisPool(url, 1);
    const first = await pool.acquire();
    const broken = first.instance;
    first.release();
    // The idle connection breaks; the PING check on the next acquire notices and replaces it.
    broken.destroy();
    const second = await pool.acquire();
    expect(second.instance).not.toBe(broken);
    expect(await second.instance.ping()).toBe('PONG');
    second.release();
    expect(pool.connections).toHaveLength(2);
  });

  it('a frozen server (SIGSTOP): acquire timeouts and signals end hanging creates and checks, close() ends the rest', async () => {
    const pool = new RedisPool(url, 2);
    const idle = await pool.acquire();
    idle.release();
    server!.pause();
    try {
      // The idle connection's PING check hangs; so does connecting a new one once the
      // check's connection is taken.
      const checking = caught(pool.acquire({ timeout: 200 }));
      const creating = caught(pool.acquire({ timeout: 200 }));
      const controller = new AbortController();
      const aborted = caught(pool.acquire({ signal: controller.signal }));
      const plain = caught(pool.acquire());
      expect(AcquireTimeoutError.isInstance(await checking)).toBe(true);
      expect(AcquireTimeoutError.isInstance(await creating)).toBe(true);
      const reason = new Error('gave up');
      controller.abort(reason);
      expect(await aborted).toBe(reason);
      const closing = pool.close();
      expect(PoolClosedError.isInstance(await plain)).toBe(true);
      expect(pool.pending).toBe(0);
      server!.resume();
      await closing;
    } finally {
      server!.resume();
    }
    for (const client of pool.connections) if (client.isOpen) client.destroy();
  });
});
