import { getLogger, PeriodicCallback, Service } from '@aiomisc/core';

const log = getLogger('sample.heartbeat');

/** Counts beats on a periodic callback and shares the count through the context. */
export class HeartbeatService extends Service<{ intervalMs?: number }> {
  static override defaults = { intervalMs: 5000 };
  beats = 0;
  #periodic = new PeriodicCallback(() => this.#beat(), { name: 'heartbeat' });

  async start() {
    this.context.set('heartbeat', this);
    this.#periodic.start(this.options.intervalMs!);
  }

  override async stop() {
    await this.#periodic.stop();
    log.info(`stopped after ${this.beats} beats`);
  }

  #beat() {
    this.beats++;
    log.info(`beat ${this.beats}`);
  }
}
