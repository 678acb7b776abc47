import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Entrypoint,
  entrypoint,
  Event,
  InvalidArgumentError,
  registerExtension,
  Service,
  ShutdownTimeoutError,
  type EntrypointSignalPayload,
} from '../src/index';

const quiet = { catchSignals: [], plugins: false, logLevel: 'critical' } as const;

class Recorder extends Service<{ name: string; log: string[] }> {
  async start() {
    this.options.log.push(`start ${this.options.name}`);
  }
  override async stop() {
    this.options.log.push(`stop ${this.options.name}`);
  }
}

class Hung extends Service {
  async start() {}
  override async stop() {
    await new Promise(() => {});
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  vi.useRealTimers();
});

function extension(
  name: string,
  hooks: { setup?: () => void | Promise<void>; teardown?: () => void | Promise<void> },
) {
  cleanups.push(registerExtension({ name, ...hooks }));
}

describe('Entrypoint stopped before its services start', () => {
  it('during extension setup: starts nothing, tears down, and start() resolves', async () => {
    const log: string[] = [];
    const settingUp = new Event();
    let finishSetup!: () => void;
    extension('slow-setup', {
      setup: () => {
        settingUp.set();
        return new Promise<void>((resolve) => (finishSetup = resolve));
      },
      teardown: () => {
        log.push('teardown');
      },
    });
    const ep = entrypoint({ ...quiet, services: [new Recorder({ name: 'a', log })] });
    const starting = ep.start();
    await settingUp.wait();
    const stopping = ep.stop();
    finishSetup();
    await stopping;
    await expect(starting).resolves.toBe(ep);
    expect(log).toEqual(['teardown']);
    expect(ep.isRunning).toBe(false);
    expect(ep.services).toEqual([]);
  });

  it('during an async PRE_START receiver: the services never start', async () => {
    const log: string[] = [];
    const ep = entrypoint({ ...quiet, services: [new Recorder({ name: 'a', log })] });
    const inReceiver = new Event();
    let release!: () => void;
    ep.preStart.connect(() => {
      inReceiver.set();
      return new Promise<void>((resolve) => (release = resolve));
    });
    const starting = ep.start();
    await inReceiver.wait();
    await ep.stop();
    // start() resolves as soon as the stop ended, even while the receiver still hangs
    await expect(starting).resolves.toBe(ep);
    release();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(log).toEqual([]);
    expect(ep.services).toEqual([]);
  });

  it('refuses startServices() once a stop began', async () => {
    const log: string[] = [];
    const ep = await entrypoint(quiet).start();
    const stopping = ep.stop();
    await expect(ep.startServices(new Recorder({ name: 'late', log }))).rejects.toThrow(
      /entrypoint is stopping; not started: Recorder\(late\)/,
    );
    await stopping;
    expect(log).toEqual([]);
  });

  it('a start that never settles does not keep start() pending after the stop', async () => {
    class Deaf extends Service {
      async start() {
        await new Promise(() => {});
      }
    }
    const ep = entrypoint({ ...quiet, shutdownTimeout: 50, services: [new Deaf()] });
    const starting = ep.start();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const error = await ep.stop().catch((caught: unknown) => caught);
    expect(ShutdownTimeoutError.isInstance(error)).toBe(true);
    expect((error as ShutdownTimeoutError).pending).toEqual(['Deaf']);
    await expect(starting).resolves.toBe(ep);
  });
});

describe('Entrypoint receivers that throw', () => {
  it('POST_START: start() rejects and the started services are stopped', async () => {
    const log: string[] = [];
    const ep = entrypoint({
      ...quiet,
      services: [new Recorder({ name: 'a', log }), new Recorder({ name: 'b', log })],
    });
    ep.postStart.connect(() => {
      throw new Error('post start failed');
    });
    await expect(ep.start()).rejects.toThrow('post start failed');
    expect(log.filter((line) => line.startsWith('stop')).sort()).toEqual(['stop a', 'stop b']);
    expect(ep.services).toEqual([]);
    expect(ep.isRunning).toBe(false);
    await ep.stop();
  });

  it('PRE_STOP: every stop() still runs, then stop() rejects with the error', async () => {
    const log: string[] = [];
    const ep = entrypoint({
      ...quiet,
      services: [new Recorder({ name: 'a', log }), new Recorder({ name: 'b', log })],
    });
    ep.preStop.connect(() => {
      throw new Error('pre stop failed');
    });
    await ep.start();
    await expect(ep.stop()).rejects.toThrow('pre stop failed');
    expect(log.filter((line) => line.startsWith('stop')).sort()).toEqual(['stop a', 'stop b']);
    expect(ep.services).toEqual([]);
  });

  it('PRE_STOP of stopServices(): the services still stop', async () => {
    const log: string[] = [];
    const failing = ({ services }: EntrypointSignalPayload) => {
      if (services.length === 1) throw new Error('pre stop failed');
    };
    Entrypoint.PRE_STOP.connect(failing);
    cleanups.push(() => Entrypoint.PRE_STOP.disconnect(failing));
    const a = new Recorder({ name: 'a', log });
    const ep = await entrypoint({ ...quiet, services: [a] }).start();
    await expect(ep.stopServices(a)).rejects.toThrow('pre stop failed');
    expect(log).toEqual(['start a', 'stop a']);
    expect(ep.services).toEqual([]);
    await ep.stop();
  });

  it('POST_STOP: the services stopped and the extensions are torn down', async () => {
    const log: string[] = [];
    extension('after-post-stop', { teardown: () => void log.push('teardown') });
    const ep = entrypoint({ ...quiet, services: [new Recorder({ name: 'a', log })] });
    ep.postStop.connect(() => {
      throw new Error('post stop failed');
    });
    await ep.start();
    await expect(ep.stop()).rejects.toThrow('post stop failed');
    expect(log).toEqual(['start a', 'stop a', 'teardown']);
  });
});

describe('Entrypoint shutdown budget', () => {
  it('bounds the extension teardown and names it', async () => {
    extension('stuck', { teardown: () => new Promise(() => {}) });
    const ep = await entrypoint({ ...quiet, shutdownTimeout: 50 }).start();
    const error = await ep.stop().catch((caught: unknown) => caught);
    expect(ShutdownTimeoutError.isInstance(error)).toBe(true);
    expect((error as ShutdownTimeoutError).pending).toEqual(['extension "stuck" teardown']);
  });

  it('a receiver that throws after the budget ran out is no unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    cleanups.push(() => process.off('unhandledRejection', onRejection));
    const ep = entrypoint({ ...quiet, shutdownTimeout: 20, services: [new Hung()] });
    ep.postStop.connect(() => {
      throw new Error('post stop failed late');
    });
    await ep.start();
    const error = await ep.stop().catch((caught: unknown) => caught);
    expect(ShutdownTimeoutError.isInstance(error)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rejections).toEqual([]);
  });

  it('names only the services whose stop did not finish', async () => {
    const log: string[] = [];
    const ep = await entrypoint({
      ...quiet,
      shutdownTimeout: 50,
      services: [new Recorder({ name: 'a', log }), new Hung(), new Recorder({ name: 'b', log })],
    }).start();
    const error = (await ep.stop().catch((caught: unknown) => caught)) as ShutdownTimeoutError;
    expect(error.pending).toEqual(['Hung']);
    expect(error.message).toBe('Shutdown did not happen in 50 ms; still running: Hung');
  });

  it.each([
    ['2^31 ms', 2 ** 31],
    ['30 days', 30 * 24 * 3600_000],
  ])('waits the whole of a %s shutdownTimeout', async (_, ms) => {
    vi.useFakeTimers();
    const ep = await entrypoint({ ...quiet, shutdownTimeout: ms, services: [new Hung()] }).start();
    let outcome: unknown = 'pending';
    ep.stop().catch((error: unknown) => (outcome = error));
    await vi.advanceTimersByTimeAsync(1000);
    expect(outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(ms - 1001);
    expect(outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(ShutdownTimeoutError.isInstance(outcome)).toBe(true);
  });

  it('accepts Infinity: no limit', async () => {
    vi.useFakeTimers();
    const ep = await entrypoint({
      ...quiet,
      shutdownTimeout: Infinity,
      services: [new Hung()],
    }).start();
    let outcome: unknown = 'pending';
    ep.stop().catch((error: unknown) => (outcome = error));
    await vi.advanceTimersByTimeAsync(365 * 24 * 3600_000);
    expect(outcome).toBe('pending');
  });

  it('is 0 ms: services that stop at once still stop cleanly', async () => {
    const log: string[] = [];
    const ep = await entrypoint({
      ...quiet,
      shutdownTimeout: 0,
      services: [new Recorder({ name: 'a', log })],
    }).start();
    await ep.stop();
    expect(log).toEqual(['start a', 'stop a']);
  });
});

describe('Entrypoint options', () => {
  it('throws InvalidArgumentError for services that are not a list', () => {
    for (const services of [5, 'abc', {}, null]) {
      const error = (() => {
        try {
          entrypoint({ ...quiet, services: services as never });
        } catch (caught) {
          return caught;
        }
      })();
      expect(InvalidArgumentError.isInstance(error), JSON.stringify(services)).toBe(true);
      expect((error as InvalidArgumentError).argument).toMatch(/^services/);
    }
  });
});
