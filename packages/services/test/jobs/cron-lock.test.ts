import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getStatistics, setLoggerFactory, type Logger } from '@aiomisc/core';
import { startRedisServer, systemCommand, type RedisServer } from '@aiomisc/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CronService, type CronLockOptions } from '../../src/index';

const hasRedis = systemCommand('redis-server', { install: 'apt-get install redis-server' });
const replica = fileURLToPath(new URL('./fixtures/cron-replica.ts', import.meta.url));

function runReplica(url: string, seconds: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', replica, url, String(seconds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`replica exited with ${code}: ${output}`)),
    );
  });
}

function statistic(name: string, metric: string): number | undefined {
  return getStatistics('CronCallbackStatistic').find(
    (entry) => entry.name === name && entry.metric === metric,
  )?.value;
}

async function runFor(lock: CronLockOptions, name: string, ms: number): Promise<number> {
  const cron = new CronService({ lock });
  let calls = 0;
  cron.register(() => void calls++, '* * * * * *', { name });
  await cron.start();
  await new Promise((resolve) => setTimeout(resolve, ms));
  await cron.stop();
  return calls;
}

describe.skipIf(!hasRedis)('CronService with the Redis lock', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('three replicas run each due run once', { timeout: 30_000 }, async () => {
    const outputs = await Promise.all([1, 2, 3].map(() => runReplica(redis.url, 5)));
    const runs = outputs.flatMap((output) =>
      output
        .split('\n')
        .filter((line) => line.startsWith('ran '))
        .map((line) => line.split(' ')),
    );
    const seconds = runs.map(([, second]) => second);
    // every due second ran in exactly one replica
    expect(new Set(seconds).size).toBe(seconds.length);
    expect(seconds.length).toBeGreaterThanOrEqual(3);
    for (const output of outputs) expect(output).toContain('stopped');
  });

  it('a single replica runs every due run and counts nothing as locked', async () => {
    const calls = await runFor({ redis: redis.url }, 'alone', 2200);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(statistic('alone', 'locked')).toBe(0);
  });

  it('Redis frozen: due runs are skipped after lock.timeout (onError skip)', async () => {
    const warnings: string[] = [];
    const restore = setLoggerFactory((): Logger => {
      const write = (first: unknown, second?: string) =>
        void warnings.push(typeof first === 'string' ? first : (second ?? ''));
      return { debug: () => {}, info: () => {}, warn: write, error: write };
    });
    try {
      const cron = new CronService({ lock: { redis: redis.url, timeout: 200 } });
      const runs: number[] = [];
      cron.register(() => void runs.push(Date.now()), '* * * * * *', { name: 'frozen' });
      await cron.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      redis.pause();
      const pausedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 3200));
      await cron.stop(); // still frozen: a lock in flight times out instead of being granted
      redis.resume();
      // a lock asked for before the pause may still have been granted; none after it
      expect(runs.filter((at) => at > pausedAt + 300)).toEqual([]);
      expect(statistic('frozen', 'locked')).toBeGreaterThanOrEqual(2);
      expect(warnings.some((line) => line.includes('no answer from Redis in 200 ms'))).toBe(true);
      expect(warnings.join('\n')).not.toContain(redis.url.replace('redis://', 'x'));
    } finally {
      redis.resume();
      restore();
    }
  });
});

describe('CronService with the Redis lock and Redis down', () => {
  const down = 'redis://127.0.0.1:1';
  it('skips every due run by default (no replica runs it twice)', async () => {
    const calls = await runFor({ redis: down }, 'down-skip', 2200);
    expect(calls).toBe(0);
    expect(statistic('down-skip', 'locked')).toBeGreaterThanOrEqual(2);
  });

  it("runs them locally with onError: 'run'", async () => {
    const calls = await runFor({ redis: down, onError: 'run' }, 'down-run', 2200);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
