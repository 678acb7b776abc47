import { afterEach, describe, expect, it } from 'vitest';
import {
  Entrypoint,
  entrypoint,
  InvalidStateError,
  Service,
  ShutdownTimeoutError,
  sleep,
  setLoggerFactory,
  type EntrypointSignalPayload,
} from '../src/index';

const quiet = { catchSignals: [], plugins: false, logLevel: 'critical' } as const;

class Recorder extends Service<{ name: string; log: string[]; delay?: number; fail?: boolean }> {
  async start() {
    const { log, name, delay = 0, fail } = this.options;
    log.push(`start ${name}`);
    if (delay) await sleep(delay);
    if (fail) throw new Error(`${name} failed`);
    log.push(`started ${name}`);
  }
  override async stop(error?: unknown) {
    this.options.log.push(
      `stop ${this.options.name}${error ? ` (${(error as Error).message})` : ''}`,
    );
  }
}

class Forever extends Service<{ log: string[] }> {
  async start() {
    this.startEvent.set();
    this.options.log.push('forever running');
    await new Promise<void>((resolve) => {
      this.signal.addEventListener('abort', () => {
        this.options.log.push('forever aborted');
        resolve();
      });
    });
    await sleep(5);
    this.options.log.push('forever finished');
  }
  override async stop() {
    this.options.log.push(`forever stop (aborted: ${this.signal.aborted})`);
  }
}

afterEach(() => {
  for (const signal of [
    Entrypoint.PRE_START,
    Entrypoint.POST_START,
    Entrypoint.PRE_STOP,
    Entrypoint.POST_STOP,
  ]) {
    for (const receiver of receivers) signal.disconnect(receiver);
  }
  receivers.length = 0;
});
const receivers: ((payload: EntrypointSignalPayload) => unknown)[] = [];

describe('Entrypoint', () => {
  it('starts services concurrently and resolves only when all started', async () => {
    const log: string[] = [];
    const ep = entrypoint({
      ...quiet,
      services: [
        new Recorder({ name: 'slow', log, delay: 20 }),
        new Recorder({ name: 'fast', log }),
      ],
    });
    await ep.start();
    log.push('body');
    expect(log.slice(0, 2)).toEqual(['start slow', 'start fast']);
    expect(log.at(-1)).toBe('body');
    expect(log).toContain('started slow');
    await ep.stop();
  });

  it('waits for the start event of a service whose start runs forever', async () => {
    const log: string[] = [];
    class Late extends Service {
      async start() {
        await sleep(10);
        log.push('ready');
        this.startEvent.set();
        await new Promise((resolve) => this.signal.addEventListener('abort', resolve));
      }
    }
    const ep = await entrypoint({ ...quiet, services: [new Late()] }).start();
    log.push('body');
    expect(log).toEqual(['ready', 'body']);
    await ep.stop();
  });

  it('stops the started services and rejects with the original error when one start fails', async () => {
    const log: string[] = [];
    const ep = entrypoint({
      ...quiet,
      services: [
        new Recorder({ name: 'ok', log }),
        new Recorder({ name: 'bad', log, delay: 5, fail: true }),
        new Forever({ log }),
      ],
    });
    await expect(ep.start()).rejects.toThrow('bad failed');
    expect(log).toContain('stop ok (bad failed)');
    expect(log).toContain('forever aborted');
    expect(log).toContain('forever finished');
    expect(ep.services).toEqual([]);
    expect(() => Entrypoint.current()).toThrow(InvalidStateError);
  });

  it('calls stop(), then aborts the signal, then awaits a forever-running start', async () => {
    const log: string[] = [];
    const ep = await entrypoint({ ...quiet, services: [new Forever({ log })] }).start();
    await ep.stop();
    expect(log).toEqual([
      'forever running',
      'forever stop (aborted: false)',
      'forever aborted',
      'forever finished',
    ]);
  });

  it('fires the signals in order with the entrypoint and services', async () => {
    const log: string[] = [];
    const service = new Recorder({ name: 'a', log });
    const record = (name: string) => {
      const receiver = ({ entrypoint: ep, services }: EntrypointSignalPayload) => {
        log.push(`${name} ${services.length} ${ep === current}`);
      };
      receivers.push(receiver);
      return receiver;
    };
    Entrypoint.PRE_START.connect(record('PRE_START'));
    Entrypoint.POST_STOP.connect(record('POST_STOP'));
    const current = entrypoint({ ...quiet, services: [service] });
    current.postStart.connect(({ services }) => {
      log.push(`post_start ${services.length}`);
    });
    current.preStop.connect(async () => {
      await sleep(1);
      log.push('pre_stop');
    });
    await current.start();
    expect(() => current.postStart.connect(() => {})).toThrow(InvalidStateError);
    await current.stop();
    expect(log).toEqual([
      'PRE_START 1 true',
      'start a',
      'started a',
      'post_start 1',
      'pre_stop',
      'stop a',
      'POST_STOP 1 true',
    ]);
  });

  it('starts and stops services dynamically, with signals for only those', async () => {
    const log: string[] = [];
    const ep = await entrypoint({ ...quiet, services: [new Recorder({ name: 'a', log })] }).start();
    const counts: number[] = [];
    // Signals of a started entrypoint are frozen; class signals still accept receivers.
    const receiver = ({ services }: EntrypointSignalPayload) => {
      counts.push(services.length);
    };
    receivers.push(receiver);
    Entrypoint.PRE_START.connect(receiver);
    const b = new Recorder({ name: 'b', log });
    const c = new Recorder({ name: 'c', log });
    await ep.startServices(b, c);
    expect(ep.services).toHaveLength(3);
    await expect(ep.startServices(b)).rejects.toThrow(InvalidStateError);
    const reports = await ep.stopServices(b);
    expect(reports.map((report) => report.service)).toEqual(['Recorder(b)']);
    expect(ep.services).toHaveLength(2);
    expect(counts).toEqual([2]);
    await ep.stop();
    expect(log.filter((line) => line.startsWith('stop'))).toEqual(['stop b', 'stop a', 'stop c']);
  });

  it('stops every service even when one stop throws and reports which failed', async () => {
    const log: string[] = [];
    class Broken extends Service {
      async start() {}
      override async stop() {
        throw new Error('cannot stop');
      }
    }
    const ep = await entrypoint({
      ...quiet,
      services: [new Broken(), new Recorder({ name: 'a', log }), new Forever({ log })],
    }).start();
    await expect(ep.stop()).rejects.toThrow('cannot stop');
    expect(log).toContain('stop a');
    expect(log).toContain('forever finished');
    expect(ep.shutdownReport.map((report) => [report.service, report.error !== undefined])).toEqual(
      [
        ['Broken', true],
        ['Recorder(a)', false],
        ['Forever', false],
      ],
    );
  });

  it('cuts a hung stop at shutdownTimeout, naming the service, and stops the others', async () => {
    const log: string[] = [];
    class Hung extends Service {
      async start() {}
      override async stop() {
        await new Promise(() => {});
      }
    }
    const ep = await entrypoint({
      ...quiet,
      shutdownTimeout: 50,
      services: [new Hung(), new Recorder({ name: 'a', log })],
    }).start();
    const error = await ep.stop().catch((caught: unknown) => caught);
    expect(ShutdownTimeoutError.isInstance(error)).toBe(true);
    expect((error as ShutdownTimeoutError).pending).toEqual(['Hung']);
    expect(log).toContain('stop a');
    expect(ep.shutdownReport.find((report) => report.service === 'Hung')?.timedOut).toBe(true);
  });

  it('is current while running, resolves closing() at stop, and stops once', async () => {
    const ep = await entrypoint(quiet).start();
    expect(Entrypoint.current()).toBe(ep);
    expect(ep.isRunning).toBe(true);
    let closed = false;
    const closing = ep.closing().then(() => (closed = true));
    await sleep(1);
    expect(closed).toBe(false);
    const first = ep.stop();
    expect(ep.stop()).toBe(first);
    await first;
    await closing;
    expect(closed).toBe(true);
    expect(() => Entrypoint.current()).toThrow(InvalidStateError);
    await expect(ep.start()).rejects.toThrow(InvalidStateError);
  });

  it('shares the context between services: get before set waits', async () => {
    const seen: unknown[] = [];
    class Reader extends Service {
      async start() {
        seen.push(await this.context.get('answer'));
      }
    }
    class Writer extends Service {
      async start() {
        await sleep(5);
        this.context.set('answer', 42);
      }
    }
    const ep = await entrypoint({ ...quiet, services: [new Reader(), new Writer()] }).start();
    expect(seen).toEqual([42]);
    await ep.stop();
  });

  it('supports await using', async () => {
    const log: string[] = [];
    {
      await using ep = await entrypoint({
        ...quiet,
        services: [new Recorder({ name: 'a', log })],
      }).start();
      expect(ep.services).toHaveLength(1);
    }
    expect(log).toContain('stop a');
  });
});

describe('Entrypoint stopped while starting', () => {
  it('stops each service once and lets start() resolve after the stop', async () => {
    const log: string[] = [];
    class Slow extends Service {
      async start() {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 1000);
          this.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('aborted while starting'));
          });
        });
      }
      override async stop() {
        log.push('slow stop');
      }
    }
    const ep = entrypoint({ ...quiet, services: [new Slow(), new Recorder({ name: 'a', log })] });
    const starting = ep.start();
    await sleep(5);
    await ep.stop();
    await expect(starting).resolves.toBe(ep);
    expect(ep.isRunning).toBe(false);
    expect(ep.services).toEqual([]);
    expect(log.filter((line) => line.startsWith('slow stop') || line.startsWith('stop a'))).toEqual(
      ['slow stop', 'stop a'],
    );
  });
});

describe('Entrypoint debug option', () => {
  it("logs each service's start and stop time", async () => {
    const lines: string[] = [];
    const capture = (first: string | object, second?: string) => {
      lines.push(typeof first === 'string' ? first : (second ?? ''));
    };
    const restore = setLoggerFactory(() => ({
      debug: capture,
      info: capture,
      warn: capture,
      error: capture,
    }));
    try {
      const log: string[] = [];
      const ep = await entrypoint({
        ...quiet,
        debug: true,
        services: [new Recorder({ name: 'a', log })],
      }).start();
      await ep.stop();
    } finally {
      restore();
    }
    expect(lines.some((line) => /^Recorder\(a\) started in [\d.]+ ms$/.test(line))).toBe(true);
    expect(lines.some((line) => /^Recorder\(a\) stopped in [\d.]+ ms$/.test(line))).toBe(true);
  });
});
