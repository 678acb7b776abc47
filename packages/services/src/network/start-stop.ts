import { InvalidStateError } from '@aiomisc/core';

/**
 * The start/stop bookkeeping the servers share: a second `start()` throws, a failed start can be
 * retried, a second `stop()` gets the first one's promise, and a stop first waits for a start in
 * flight and does nothing when that start failed or never happened.
 * @internal
 */
export class StartStop {
  private readonly owner: string;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  /** `owner` names the service in the "already started" error. */
  constructor(owner: string) {
    this.owner = owner;
  }

  /** Runs `open`; rejects as it does. @throws {@link InvalidStateError} when already started. */
  async start(open: () => Promise<void>): Promise<void> {
    if (this.starting !== undefined) {
      throw new InvalidStateError(`${this.owner} is already started`);
    }
    const starting = open();
    this.starting = starting;
    try {
      await starting;
    } catch (error) {
      this.starting = undefined;
      throw error;
    }
  }

  /** Runs `close` once the start has succeeded; afterwards the service may start again. */
  stop(close: () => Promise<void>): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    const starting = this.starting;
    if (starting === undefined) return Promise.resolve();
    const stopping = (async () => {
      try {
        await starting;
      } catch {
        return;
      }
      await close();
    })().finally(() => {
      this.stopping = undefined;
      this.starting = undefined;
    });
    this.stopping = stopping;
    return stopping;
  }
}
