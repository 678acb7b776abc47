import { getLogger, Service } from '@aiomisc/core';
import { WorkerPool } from '@aiomisc/pool';

import type { Describable } from './status-board.js';

const log = getLogger('sample.workers');

/** The task the API runs in a worker process. */
export const countPrimesTask = {
  moduleUrl: new URL('./worker-tasks.js', import.meta.url).href,
  name: 'countPrimes',
};

/**
 * Owns a `WorkerPool` of forked processes and shares it through the context as `worker-pool`.
 * It closes the pool only after the API stopped (`stopAfter`): closing fails the tasks still
 * running, and the API finishes the requests it accepted.
 */
export class WorkerPoolService extends Service<{ size: number }> implements Describable {
  static override required = ['size'];
  #pool: WorkerPool | undefined;
  readonly #stopAfter: Promise<unknown>;

  constructor(options: { size: number }, stopAfter: Promise<unknown>) {
    super(options);
    this.#stopAfter = stopAfter;
  }

  async start() {
    // Kept before it is started, so that a stop during the start closes it.
    this.#pool = new WorkerPool(this.options.size, { statisticName: 'sample' });
    await this.#pool.start();
    this.context.set('worker-pool', this.#pool);
    log.info(`worker pool of ${this.options.size} processes: ${this.#pool.pids.join(', ')}`);
  }

  override async stop() {
    await this.#stopAfter;
    await this.#pool?.close();
    log.info({ service: 'WorkerPoolService' }, 'WorkerPoolService stopped');
  }

  describe() {
    return { size: this.options.size, pids: this.#pool?.closed ? [] : (this.#pool?.pids ?? []) };
  }
}
