import { getLogger, Service } from '@aiomisc/core';
import { CronService, PeriodicService, type PeriodicServiceOptions } from '@aiomisc/services';

import type { Describable } from './status-board.js';
import type { UpstreamClient } from './upstream.js';

const log = getLogger('sample.jobs');

/**
 * A `PeriodicService` that probes the upstream through the circuit breaker every `interval`,
 * so the breaker's state moves on the status page without traffic. Each run writes one record
 * with a sequence number (`tick`); the stop line says how many (the tests count them).
 */
export class UpstreamProbe extends PeriodicService implements Describable {
  ticks = 0;
  readonly #upstream: UpstreamClient;

  constructor(options: PeriodicServiceOptions, upstream: UpstreamClient) {
    super(options);
    this.#upstream = upstream;
  }

  async callback() {
    const tick = ++this.ticks;
    const outcome = await this.#upstream.call().then(
      () => 'ok',
      (error: unknown) => (error instanceof Error ? error.name : 'error'),
    );
    log.info({ tick, outcome, breaker: this.#upstream.breaker.state }, 'tick');
  }

  override async stop() {
    await super.stop();
    log.info(
      { service: 'UpstreamProbe', ticks: this.ticks },
      `UpstreamProbe stopped after ${this.ticks} ticks`,
    );
  }

  describe() {
    return { ticks: this.ticks, interval: this.options.interval };
  }
}

/** A `CronService` with one job: it counts its runs and logs the next one. */
export class SampleCron extends CronService implements Describable {
  runs = 0;

  constructor(spec: string) {
    super();
    this.register(
      () => {
        this.runs++;
        log.info({ runs: this.runs }, `cron job ran (${spec})`);
      },
      spec,
      { name: 'sample-cron' },
    );
  }

  override async stop() {
    await super.stop();
    log.info({ service: 'SampleCron', runs: this.runs }, 'SampleCron stopped');
  }

  describe() {
    const [job] = this.jobs;
    return { runs: this.runs, spec: job?.spec, nextRun: job?.nextRun?.toISOString() };
  }
}

/**
 * Only with --hang-on-stop / AIOMISC_SAMPLE_HANG_ON_STOP=1: a service whose stop() never
 * returns, to show the entrypoint's shutdownTimeout cutting the stop (exit code 70, the
 * service named in the log).
 */
export class HangOnStop extends Service {
  async start() {}

  override async stop() {
    log.warn({ service: 'HangOnStop' }, 'HangOnStop: stop() will never return');
    await new Promise(() => {});
  }
}
