import { PeriodicCallback } from '@aiomisc/core';
import { InspectorSession } from './inspector-session';

/**
 * @internal What MemoryTracer and Profiler share: an inspector session that is set up with some
 * commands, reported on every `interval` ms (first after one interval), and torn down with
 * others. A failed setup disconnects the session before it rethrows.
 */
export class InspectorSampler {
  readonly session: InspectorSession;
  readonly #periodic: PeriodicCallback;

  private constructor(session: InspectorSession, periodic: PeriodicCallback) {
    this.session = session;
    this.#periodic = periodic;
  }

  /** Posts each `[method, params]` of `setup` in order, then starts reporting. */
  static async open(
    name: string,
    setup: ReadonlyArray<readonly [method: string, params?: object]>,
    interval: number,
    report: () => Promise<unknown>,
  ): Promise<InspectorSampler> {
    const session = new InspectorSession();
    try {
      for (const [method, params] of setup) await session.post(method, params);
    } catch (error) {
      session.disconnect();
      throw error;
    }
    const periodic = new PeriodicCallback(report, { name });
    periodic.start(interval, { delay: interval });
    return new InspectorSampler(session, periodic);
  }

  /** Stops reporting (waiting for a report in flight), posts `teardown`, then disconnects. */
  async close(...teardown: string[]): Promise<void> {
    if (this.#periodic.isRunning) await this.#periodic.stop();
    await this.session.end(...teardown);
  }
}
