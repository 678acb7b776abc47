import { entrypoint, getStatistics, InvalidArgumentError, InvalidStateError } from '@aiomisc/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CronCallback, CronService } from '../../src/index';

function fakeClock(iso: string): void {
  vi.useFakeTimers({ now: new Date(iso) });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('CronCallback', () => {
  it('runs on a 6-field spec (seconds first), every second', async () => {
    fakeClock('2026-05-01T10:00:00.500Z');
    const runs: string[] = [];
    const cron = new CronCallback(() => void runs.push(new Date().toISOString()), { name: 'tick' });
    cron.start('* * * * * *');
    expect(cron.nextRun?.toISOString()).toBe('2026-05-01T10:00:01.000Z');
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toEqual([
      '2026-05-01T10:00:01.000Z',
      '2026-05-01T10:00:02.000Z',
      '2026-05-01T10:00:03.000Z',
    ]);
    await cron.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('skips and logs a run still going when the next is due, never stacking them', async () => {
    fakeClock('2026-05-01T10:00:00.000Z');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const cron = new CronCallback(
      async () => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 2500));
        active--;
      },
      { name: 'slow-job' },
    );
    cron.start('* * * * * *');
    await vi.advanceTimersByTimeAsync(6000);
    expect(maxActive).toBe(1);
    // runs start at 1 s and 4 s; the ones due at 2, 3, 5 and 6 s are skipped
    expect(calls).toBe(2);
    const skipped = stderr.mock.calls
      .map(([line]) => String(line))
      .filter((line) => line.includes('slow-job') && line.includes('skipped'));
    expect(skipped).toHaveLength(4);
    const statistic = getStatistics('CronCallbackStatistic').filter(
      (entry) => entry.name === 'slow-job',
    );
    expect(statistic.find((entry) => entry.metric === 'skipped')?.value).toBe(4);
    const stopping = cron.stop();
    await vi.advanceTimersByTimeAsync(500);
    await stopping;
  });

  it('stop() aborts the running callback and waits for it; start twice and stop twice throw', async () => {
    fakeClock('2026-05-01T10:00:00.000Z');
    let aborted = false;
    let finished = false;
    const cron = new CronCallback(async (signal) => {
      await new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          setTimeout(resolve, 100);
        }),
      );
      finished = true;
    });
    cron.start('* * * * * *');
    expect(() => cron.start('* * * * * *')).toThrow(InvalidStateError);
    await vi.advanceTimersByTimeAsync(1000);
    const stopping = cron.stop();
    await vi.advanceTimersByTimeAsync(100);
    await stopping;
    expect(aborted).toBe(true);
    expect(finished).toBe(true);
    await expect(cron.stop()).rejects.toThrow(InvalidStateError);
  });

  it('a yearly job waits longer than 2^31 ms without firing early', async () => {
    fakeClock('2026-01-02T00:00:00.000Z');
    let calls = 0;
    const cron = new CronCallback(() => void calls++);
    cron.start('0 0 1 1 *');
    expect(cron.nextRun?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    await vi.advanceTimersByTimeAsync(2 ** 31 + 1000);
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(new Date('2027-01-01').getTime() - Date.now() - 1);
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(1);
    expect(cron.nextRun?.toISOString()).toBe('2028-01-01T00:00:00.000Z');
    await cron.stop();
  });
});

describe('CronCallback across daylight-saving transitions', () => {
  it('a 02:30 job on a spring-forward day runs once, at 03:30 (America/New_York)', async () => {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    fakeClock('2026-03-07T12:00:00.000Z');
    const runs: string[] = [];
    const cron = new CronCallback(() => void runs.push(new Date().toISOString()));
    cron.start('30 2 * * *', { timeZone: 'America/New_York' });
    await vi.advanceTimersByTimeAsync(3 * 24 * 3600_000);
    expect(runs).toEqual([
      '2026-03-08T07:30:00.000Z', // 03:30 EDT, the first valid time after the gap
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
    await cron.stop();
  });

  it('a 01:30 job on the fall-back day runs once, not twice (Europe/Berlin and New York)', async () => {
    // 2026-10-25 Berlin: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    fakeClock('2026-10-24T12:00:00.000Z');
    const berlin: string[] = [];
    const berlinJob = new CronCallback(() => void berlin.push(new Date().toISOString()));
    berlinJob.start('30 2 * * *', { timeZone: 'Europe/Berlin' });
    await vi.advanceTimersByTimeAsync(2 * 24 * 3600_000);
    expect(berlin).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first occurrence
      '2026-10-26T01:30:00.000Z', // 02:30 CET, the next day
    ]);
    await berlinJob.stop();

    // 2026-11-01 New York: 02:00 EDT goes back to 01:00 EST; 01:30 happens twice.
    vi.setSystemTime(new Date('2026-10-31T12:00:00.000Z'));
    const newYork: string[] = [];
    const newYorkJob = new CronCallback(() => void newYork.push(new Date().toISOString()));
    newYorkJob.start('30 1 * * *', { timeZone: 'America/New_York' });
    await vi.advanceTimersByTimeAsync(2 * 24 * 3600_000);
    expect(newYork).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    await newYorkJob.stop();
  });

  it('an every-30-minutes job keeps real time through the repeated hour', async () => {
    fakeClock('2026-11-01T05:10:00.000Z');
    const runs: string[] = [];
    const cron = new CronCallback(() => void runs.push(new Date().toISOString()));
    cron.start('*/30 * * * *', { timeZone: 'America/New_York' });
    await vi.advanceTimersByTimeAsync(90 * 60_000);
    expect(runs).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
    await cron.stop();
  });
});

describe('cron spec validation', () => {
  const expectBad = (action: () => void, argument: string, value: unknown) => {
    try {
      action();
      expect.unreachable();
    } catch (error) {
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe(argument);
      expect((error as InvalidArgumentError).value).toEqual(value);
      expect((error as Error).message).toContain(JSON.stringify(value));
    }
  };

  it('names a spec of 7 fields, a bad field and a bad time zone at register()', () => {
    const cron = new CronService();
    expectBad(() => cron.register(() => {}, '* * * * * * *'), 'spec', '* * * * * * *');
    expectBad(() => cron.register(() => {}, '61 * * * *'), 'spec', '61 * * * *');
    expectBad(() => cron.register(() => {}, '* * *'), 'spec', '* * *');
    expectBad(() => cron.register(() => {}, ''), 'spec', '');
    expectBad(
      () => cron.register(() => {}, '* * * * *', { timeZone: 'Mars/Olympus' }),
      'timeZone',
      'Mars/Olympus',
    );
    expect(cron.jobs).toHaveLength(0);
  });

  it('names the spec at CronCallback.start()', () => {
    const cron = new CronCallback(() => {});
    expectBad(() => cron.start('every day'), 'spec', 'every day');
    expect(cron.isRunning).toBe(false);
  });

  it('requires a job name with the lock option', () => {
    const cron = new CronService({ lock: { redis: 'redis://127.0.0.1:1' } });
    expectBad(() => cron.register(async () => {}, '* * * * *'), 'name', undefined);
  });

  it('rejects bad lock options, naming them', () => {
    expectBad(() => new CronService({ lock: { redis: 'http://x' } }), 'lock.redis', 'http://x');
    expectBad(
      () => new CronService({ lock: { redis: 'redis://127.0.0.1:1', ttl: 0 } }),
      'lock.ttl',
      0,
    );
    expectBad(
      () =>
        new CronService({
          lock: { redis: 'redis://127.0.0.1:1', onError: 'explode' as 'skip' },
        }),
      'lock.onError',
      'explode',
    );
  });
});

describe('CronService with a lock client of your own', () => {
  it('asks SET NX PX per job and due time, and counts runs another replica took', async () => {
    fakeClock('2026-05-01T10:00:00.000Z');
    const keys: string[] = [];
    let grant = true;
    const client = {
      set(key: string, _value: string, options: object): Promise<string | null> {
        expect(options).toEqual({ NX: true, PX: 5000 });
        keys.push(key);
        return Promise.resolve(grant ? 'OK' : null);
      },
    };
    const cron = new CronService({ lock: { redis: client, ttl: 5000, prefix: 'test:' } });
    let calls = 0;
    cron.register(() => void calls++, '* * * * * *', { name: 'own-client' });
    await cron.start();
    await vi.advanceTimersByTimeAsync(2000);
    grant = false;
    await vi.advanceTimersByTimeAsync(2000);
    await cron.stop();
    expect(keys).toEqual([
      'test:own-client:2026-05-01T10:00:01.000Z',
      'test:own-client:2026-05-01T10:00:02.000Z',
      'test:own-client:2026-05-01T10:00:03.000Z',
      'test:own-client:2026-05-01T10:00:04.000Z',
    ]);
    expect(calls).toBe(2);
    const locked = getStatistics('CronCallbackStatistic').find(
      (entry) => entry.name === 'own-client' && entry.metric === 'locked',
    );
    expect(locked?.value).toBe(2);
  });
});

describe('CronService', () => {
  it('runs several jobs on one timer and accepts jobs registered after start', async () => {
    fakeClock('2026-05-01T10:00:00.000Z');
    const runs: string[] = [];
    const cron = new CronService();
    const push = (label: string) => () => void runs.push(`${Date.now() % 10_000}:${label}`);
    cron.register(push('every-second'), '* * * * * *', { name: 'a' });
    cron.register(push('every-2s'), '*/2 * * * * *', { name: 'b' });
    await cron.start();
    expect(vi.getTimerCount()).toBe(1);
    expect(cron.timerCount).toBe(1);
    await vi.advanceTimersByTimeAsync(2000);
    cron.register(push('late'), '* * * * * *', { name: 'c' });
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs.sort()).toEqual([
      '1000:every-second',
      '2000:every-2s',
      '2000:every-second',
      '3000:every-second',
      '3000:late',
    ]);
    expect(cron.jobs.map((job) => job.name)).toEqual(['a', 'b', 'c']);
    await cron.stop();
    expect(vi.getTimerCount()).toBe(0);
    await cron.stop();
  });

  it('stop() under an entrypoint waits for running jobs', async () => {
    const cron = new CronService();
    let started = 0;
    let finished = 0;
    let onStart!: () => void;
    const running = new Promise<void>((resolve) => (onStart = resolve));
    cron.register(
      async () => {
        started++;
        onStart();
        await new Promise((resolve) => setTimeout(resolve, 300));
        finished++;
      },
      '* * * * * *',
      { name: 'shielded', shield: true },
    );
    const ep = entrypoint({ services: [cron], catchSignals: [] });
    await ep.start();
    await running; // a run is in flight (at most a second away)
    await ep.stop();
    expect(started).toBe(1);
    expect(finished).toBe(1);
  });

  it('a job that throws is logged and counted, and the schedule goes on', async () => {
    fakeClock('2026-05-01T10:00:00.000Z');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const cron = new CronService();
    let calls = 0;
    cron.register(
      () => {
        calls++;
        throw new Error('job exploded');
      },
      '* * * * * *',
      { name: 'exploding' },
    );
    await cron.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(3);
    expect(
      stderr.mock.calls.filter(([line]) => String(line).includes('job exploded')),
    ).toHaveLength(3);
    await cron.stop();
  });
});
