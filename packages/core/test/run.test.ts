import { describe, expect, it } from 'vitest';
import { Entrypoint, run, Service, type EntrypointSignalPayload } from '../src/index';

class Db extends Service {
  static stopped: unknown[] = [];
  async start() {
    this.context.set('db', { query: () => 42 });
  }
  override async stop(error?: unknown) {
    Db.stopped.push(error);
  }
}

describe('run', () => {
  it("resolves to main's result and then stops the services", async () => {
    Db.stopped = [];
    const result = await run(
      async ({ entrypoint }) => (await entrypoint.context.get<{ query(): number }>('db')).query(),
      { services: [new Db()], catchSignals: [], plugins: false },
    );
    expect(result).toBe(42);
    expect(Db.stopped).toEqual([undefined]);
  });

  it("passes main's error to every stop() and rejects with it", async () => {
    Db.stopped = [];
    const failure = new Error('main failed');
    await expect(
      run(
        () => {
          throw failure;
        },
        { services: [new Db()], catchSignals: [], plugins: false },
      ),
    ).rejects.toBe(failure);
    expect(Db.stopped).toEqual([failure]);
  });

  it('runs main with its signal already aborted when a stop came during start()', async () => {
    const stopDuringStart = ({ entrypoint }: EntrypointSignalPayload) => {
      void entrypoint.stop();
    };
    Entrypoint.PRE_START.connect(stopDuringStart);
    try {
      const seen = await run(({ signal, entrypoint }) => [signal.aborted, entrypoint.isRunning], {
        services: [new Db()],
        catchSignals: [],
        plugins: false,
      });
      expect(seen).toEqual([true, false]);
    } finally {
      Entrypoint.PRE_START.disconnect(stopDuringStart);
    }
  });
});
