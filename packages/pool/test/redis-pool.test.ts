import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolBase } from './helpers';

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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let server: ChildProcess;
let url: string;

beforeAll(async () => {
  const port = await freePort();
  server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  url = `redis://127.0.0.1:${port}`;
  await waitForPort(port);
});

afterAll(async () => {
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
});

describe('PoolBase with a real Redis server', () => {
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
});
