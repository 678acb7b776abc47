import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  getStatistics,
  InvalidArgumentError,
  InvalidStateError,
  PeriodicCallback,
  RecurringCallback,
  StrategySkip,
  StrategyStop,
  setLoggerFactory,
  sleep,
} from '../src/index';

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

function stats(name: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const entry of getStatistics('RecurringCallbackStatistic').filter(
    (item) => item.name === name,
  )) {
    result[entry.metric] = entry.value;
  }
  return result;
}

describe('RecurringCallback', () => {
  it('waits the strategy delay before each run', async () => {
    const runs: number[] = [];
    const callback = new RecurringCallback(() => runs.push(Date.now()), { name: 'delays' });
    const start = Date.now();
    let delay = 100;
    callback.start(() => (delay += 100));
    await vi.advanceTimersByTimeAsync(200);
    expect(runs.map((time) => time - start)).toEqual([200]);
    await vi.advanceTimersByTimeAsync(300);
    expect(runs.map((time) => time - start)).toEqual([200, 500]);
    await callback.stop();
    expect(callback.isRunning).toBe(false);
  });

  it('skips a run on StrategySkip and ends on StrategyStop', async () => {
    let calls = 0;
    let asked = 0;
    const callback = new RecurringCallback(() => calls++, { name: 'skip-stop' });
    callback.start(() => {
      asked++;
      if (asked === 1) throw new StrategySkip(50);
      if (asked === 4) throw new StrategyStop();
      return 10;
    });
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(11);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    expect(asked).toBe(4);
    expect(callback.isRunning).toBe(false);
  });

  it('ends when the strategy returns something that is not a number', async () => {
    const callback = new RecurringCallback(() => {}, { name: 'not-a-number' });
    callback.start(() => undefined as unknown as number);
    await vi.advanceTimersByTimeAsync(1);
    expect(callback.isRunning).toBe(false);
  });

  it('counts runs, failures and time, and keeps going after an error', async () => {
    let calls = 0;
    const callback = new RecurringCallback(
      async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (calls % 2 === 0) throw new RangeError('even');
      },
      { name: 'counted' },
    );
    callback.start(() => 10, { suppressExceptions: [RangeError] });
    await vi.advanceTimersByTimeAsync(60);
    await callback.stop();
    expect(stats('counted')).toEqual({ call_count: 4, done: 2, fail: 2, sum_time: 20 });
  });

  it('refuses to start twice and to stop when not started', async () => {
    const callback = new RecurringCallback(() => {}, { name: 'twice' });
    await expect(callback.stop()).rejects.toSatisfy((error) => InvalidStateError.isInstance(error));
    callback.start(() => 10);
    expect(() => callback.start(() => 10)).toThrow(InvalidStateError);
    await callback.stop();
  });
});

describe('PeriodicCallback', () => {
  it('runs after the delay, then every interval, never overlapping', async () => {
    const starts: number[] = [];
    const periodic = new PeriodicCallback(async () => {
      starts.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 30));
    });
    const t0 = Date.now();
    periodic.start(100, { delay: 10 });
    await vi.advanceTimersByTimeAsync(400);
    expect(starts.map((time) => time - t0)).toEqual([10, 140, 270, 400]);
    const stopped = periodic.stop();
    await vi.advanceTimersByTimeAsync(30);
    await stopped;
  });

  it('stop() aborts the run in flight and waits for it to finish', async () => {
    const log: string[] = [];
    const periodic = new PeriodicCallback(async (signal) => {
      log.push('run');
      await new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => setTimeout(resolve, 20));
      });
      log.push('run finished');
    });
    periodic.start(10);
    await vi.advanceTimersByTimeAsync(1);
    const stopped = periodic.stop().then(() => log.push('stopped'));
    await vi.advanceTimersByTimeAsync(25);
    await stopped;
    expect(log).toEqual(['run', 'run finished', 'stopped']);
  });

  it('lets a shielded run finish without aborting it', async () => {
    let aborted: boolean | undefined;
    const periodic = new PeriodicCallback(async (signal) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      aborted = signal.aborted;
    });
    periodic.start(10, { shield: true });
    await vi.advanceTimersByTimeAsync(1);
    const stopped = periodic.stop();
    await vi.advanceTimersByTimeAsync(25);
    await stopped;
    expect(aborted).toBe(false);
  });

  it('rejects a bad interval or delay, naming it', () => {
    const periodic = new PeriodicCallback(() => {});
    for (const interval of [0, -1, Number.NaN]) {
      expect(() => periodic.start(interval)).toThrow(InvalidArgumentError);
    }
    expect(() => periodic.start(10, { delay: -5 })).toThrow(/delay must be .* got -5/);
    expect(periodic.isRunning).toBe(false);
  });
});

describe('RecurringCallback and stop()', () => {
  it('a run cut short by stop() is neither done nor failed, and is not logged', async () => {
    const lines: string[] = [];
    const capture = (first: string | object, second?: string) => {
      lines.push(typeof first === 'string' ? first : (second ?? ''));
    };
    const restore = setLoggerFactory(() => ({
      debug: () => {},
      info: capture,
      warn: capture,
      error: capture,
    }));
    try {
      const callback = new RecurringCallback(
        (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason as Error)),
          ),
        { name: 'cut-short' },
      );
      callback.start(() => 0);
      await vi.advanceTimersByTimeAsync(1);
      await callback.stop();
      expect(stats('cut-short')).toMatchObject({ call_count: 1, done: 0, fail: 0 });
      expect(lines).toEqual([]);
    } finally {
      restore();
    }
  });

  it('a PeriodicCallback run cut short by stop() counts no failure', async () => {
    const periodic = new PeriodicCallback((signal) => sleep(10_000, { signal }), {
      name: 'periodic-cut',
    });
    periodic.start(1000);
    await vi.advanceTimersByTimeAsync(10);
    await periodic.stop();
    expect(stats('periodic-cut')).toMatchObject({ call_count: 1, done: 0, fail: 0 });
  });

  it('awaiting stop() from inside the callback settles', async () => {
    let stopped = false;
    const callback = new RecurringCallback(
      async () => {
        await callback.stop();
        stopped = true;
      },
      { name: 'self-stop' },
    );
    callback.start(() => 0);
    await vi.advanceTimersByTimeAsync(1);
    expect(stopped).toBe(true);
    await callback.finished;
    expect(callback.isRunning).toBe(false);
    expect(stats('self-stop')).toMatchObject({ call_count: 1, done: 1, fail: 0 });
  });

  it('a PeriodicCallback stopped from inside its callback settles too', async () => {
    let runs = 0;
    const periodic = new PeriodicCallback(
      async () => {
        runs++;
        await periodic.stop();
      },
      { name: 'periodic-self-stop' },
    );
    periodic.start(100);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
    expect(periodic.isRunning).toBe(false);
  });
});

describe('PeriodicCallback at a fixed rate', () => {
  it('starts runs every interval from the first, whatever a run takes', async () => {
    const starts: number[] = [];
    const periodic = new PeriodicCallback(async () => {
      starts.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 30));
    });
    const t0 = Date.now();
    periodic.start(100, { delay: 10, fixedRate: true });
    await vi.advanceTimersByTimeAsync(400);
    expect(starts.map((time) => time - t0)).toEqual([10, 110, 210, 310]);
    const stopped = periodic.stop();
    await vi.advanceTimersByTimeAsync(30);
    await stopped;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('skips the runs a slow run overlaps, with one warning per slow run, never stacking', async () => {
    const lines: string[] = [];
    const restore = setLoggerFactory(() => ({
      debug: () => {},
      info: () => {},
      warn: (first: string | object, second?: string) =>
        void lines.push(typeof first === 'string' ? first : (second ?? '')),
      error: () => {},
    }));
    try {
      const starts: number[] = [];
      let running = 0;
      let most = 0;
      const periodic = new PeriodicCallback(
        async () => {
          starts.push(Date.now());
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 250));
          running--;
        },
        { name: 'slow-rate' },
      );
      const t0 = Date.now();
      periodic.start(100, { fixedRate: true });
      await vi.advanceTimersByTimeAsync(650);
      expect(starts.map((time) => time - t0)).toEqual([0, 300, 600]);
      expect(most).toBe(1);
      expect(lines).toEqual([
        'slow-rate: the previous run is still going; skipping due runs until it ends',
        'slow-rate: the previous run is still going; skipping due runs until it ends',
      ]);
      const stopped = periodic.stop();
      await vi.advanceTimersByTimeAsync(250);
      await stopped;
      expect(stats('slow-rate')).toMatchObject({ call_count: 3, fail: 0 });
    } finally {
      restore();
    }
  });

  it('stop() waits for the run in flight, and a run may stop it', async () => {
    const events: string[] = [];
    const periodic = new PeriodicCallback(async (signal) => {
      events.push('run');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      await sleep(20);
      events.push('run finished');
    });
    periodic.start(50, { fixedRate: true });
    await vi.advanceTimersByTimeAsync(1);
    const stopped = periodic.stop().then(() => events.push('stopped'));
    await vi.advanceTimersByTimeAsync(30);
    await stopped;
    expect(events).toEqual(['run', 'run finished', 'stopped']);

    let runs = 0;
    const selfStop = new PeriodicCallback(async () => {
      if (++runs === 2) await selfStop.stop();
    });
    selfStop.start(10, { fixedRate: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    expect(selfStop.isRunning).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes an interval of 2^31 ms and more', async () => {
    let runs = 0;
    const periodic = new PeriodicCallback(() => void runs++);
    periodic.start(2 ** 31, { fixedRate: true });
    await vi.advanceTimersByTimeAsync(500);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1000);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
    await periodic.stop();
  });

  it('names fixedRate when it is not a boolean', () => {
    const periodic = new PeriodicCallback(() => undefined);
    expect(() => periodic.start(10, { fixedRate: 'yes' as unknown as boolean })).toThrow(
      /fixedRate/,
    );
    expect(periodic.isRunning).toBe(false);
  });
});

describe('stop() called by a run', () => {
  it('awaiting stop() after an await inside the callback settles', async () => {
    let stopped = false;
    const callback = new RecurringCallback(
      async () => {
        await sleep(5);
        await Promise.resolve();
        await callback.stop();
        stopped = true;
      },
      { name: 'self-stop-later' },
    );
    callback.start(() => 0);
    await vi.advanceTimersByTimeAsync(20);
    expect(stopped).toBe(true);
    await callback.finished;
    expect(stats('self-stop-later')).toMatchObject({ call_count: 1, done: 1, fail: 0 });
  });

  it('a helper awaited by the callback, or a then-chain, may await stop() too', async () => {
    const order: string[] = [];
    const viaHelper = new RecurringCallback(
      async () => {
        const helper = async () => {
          await sleep(1);
          await viaHelper.stop();
          order.push('helper');
        };
        await helper();
      },
      { name: 'self-stop-helper' },
    );
    const viaThen: RecurringCallback = new RecurringCallback(
      () =>
        sleep(1)
          .then(() => viaThen.stop())
          .then(() => void order.push('then')),
      { name: 'self-stop-then' },
    );
    viaHelper.start(() => 0);
    viaThen.start(() => 0);
    await vi.advanceTimersByTimeAsync(10);
    expect(order.sort()).toEqual(['helper', 'then']);
    expect(viaHelper.isRunning || viaThen.isRunning).toBe(false);
  });

  it("one callback awaiting another's stop() waits for that other run", async () => {
    const events: string[] = [];
    const other = new RecurringCallback(
      async () => {
        events.push('other started');
        await sleep(100);
        events.push('other finished');
      },
      { name: 'other' },
    );
    const stopper = new RecurringCallback(
      async () => {
        await sleep(10);
        await other.stop();
        events.push('stop returned');
        await stopper.stop();
      },
      { name: 'stopper' },
    );
    other.start(() => 0);
    stopper.start(() => 0);
    await vi.advanceTimersByTimeAsync(200);
    expect(events).toEqual(['other started', 'other finished', 'stop returned']);
    expect(other.isRunning || stopper.isRunning).toBe(false);
  });

  it("works under the application's own Error.prepareStackTrace, and leaves it in place", async () => {
    const custom = (): string => 'custom stack';
    const before = Error.prepareStackTrace;
    Error.prepareStackTrace = custom;
    try {
      let stopped = false;
      const callback = new RecurringCallback(
        async () => {
          await sleep(1);
          await callback.stop();
          stopped = true;
        },
        { name: 'self-stop-custom-stack' },
      );
      callback.start(() => 0);
      await vi.advanceTimersByTimeAsync(10);
      expect(stopped).toBe(true);
      expect(Error.prepareStackTrace).toBe(custom);
      expect(new Error('x').stack).toBe('custom stack');
    } finally {
      Error.prepareStackTrace = before;
    }
  });

  it('a task the callback left running is not the run: its stop() waits for the run', async () => {
    let stopReturned = 0;
    let runEnded = 0;
    const callback = new RecurringCallback(
      async () => {
        void (async () => {
          await sleep(5);
          await callback.stop(); // the run does not wait on this task, so this waits for it
          stopReturned = Date.now();
        })();
        await sleep(10);
        runEnded = Date.now();
      },
      { name: 'detached' },
    );
    const t0 = Date.now();
    callback.start(() => 1000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(runEnded - t0).toBe(1010);
    expect(stopReturned - t0).toBe(1010);
    expect(callback.isRunning).toBe(false);
  });
});

it('installs no async hooks: promises stay untracked after runs and a self-stop', async () => {
  vi.useRealTimers();
  const { execFileSync } = await import('node:child_process');
  const probe = new URL('./fixtures/async-hooks-probe.mjs', import.meta.url);
  const run = (control: string) =>
    execFileSync(process.execPath, [probe.pathname], {
      env: { ...process.env, CONTROL: control },
      encoding: 'utf8',
      timeout: 10_000,
    }).trim();
  expect(run('0')).toBe('ticks ok, promise hooks off');
  expect(run('1')).toBe('ticks ok, promise hooks on'); // the probe can tell
});

describe('Long durations', () => {
  it.each([
    ['2^31 ms', 2 ** 31],
    ['30 days', 30 * 24 * 3600_000],
  ])('a PeriodicCallback interval of %s runs once per interval', async (_, interval) => {
    let runs = 0;
    const periodic = new PeriodicCallback(() => void runs++, { name: `long-${interval}` });
    periodic.start(interval);
    await vi.advanceTimersByTimeAsync(500);
    expect(runs).toBe(1); // the first run comes at once (delay 0)
    await vi.advanceTimersByTimeAsync(interval - 501);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    await periodic.stop();
  });

  it('a PeriodicCallback delay of 2^31 ms holds the first run back that long', async () => {
    let runs = 0;
    const periodic = new PeriodicCallback(() => void runs++, { name: 'long-delay' });
    periodic.start(1000, { delay: 2 ** 31 });
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await periodic.stop();
  });

  it('StrategySkip waits a delay beyond 2^31 ms, and Infinity until stop()', async () => {
    let asked = 0;
    const callback = new RecurringCallback(() => {}, { name: 'long-skip' });
    callback.start(() => {
      asked++;
      throw new StrategySkip(asked === 1 ? 30 * 24 * 3600_000 : Infinity);
    });
    await vi.advanceTimersByTimeAsync(29 * 24 * 3600_000);
    expect(asked).toBe(1);
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(asked).toBe(2);
    await vi.advanceTimersByTimeAsync(365 * 24 * 3600_000);
    expect(asked).toBe(2);
    await callback.stop();
    expect(stats('long-skip')).toMatchObject({ call_count: 0 });
  });

  it('StrategySkip refuses a delay that is not a number >= 0', () => {
    for (const delay of [-1, Number.NaN, '10' as never]) {
      expect(() => new StrategySkip(delay)).toThrow(InvalidArgumentError);
    }
  });
});
