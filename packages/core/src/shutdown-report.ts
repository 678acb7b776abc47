import type { Logger } from './logger';
import type { Service } from './service';

/** How one service's stop went, as the shutdown report lists it. */
export interface ServiceStopReport {
  /** Class name, with the `name` option when there is one. */
  service: string;
  /** Time from the `stop()` call until stop and start both settled, in ms. */
  durationMs: number;
  /** The error `stop()` threw, if it did. */
  error?: unknown;
  /** True when it was still running when `shutdownTimeout` expired. */
  timedOut: boolean;
}

/** Class name of a service, with its `name` option when it has one. */
export function serviceName(service: Service<object>): string {
  const name = (service.options as { name?: unknown }).name;
  return typeof name === 'string'
    ? `${service.constructor.name}(${name})`
    : service.constructor.name;
}

/**
 * The outcome of one stop call, kept as flat arrays and turned into objects and names only
 * when read, so stopping thousands of services does not build thousands of strings.
 * @internal
 */
export class ShutdownReport {
  constructor(
    readonly services: readonly Service<object>[],
    /** Per service, ms until it settled, or -1 when it had not when the timeout expired. */
    readonly durations: Float64Array,
    readonly errors: ReadonlyMap<number, unknown>,
    readonly totalMs: number,
  ) {}

  /** One entry per service. */
  entries(): ServiceStopReport[] {
    return this.services.map((service, index) => {
      const duration = this.durations[index]!;
      const entry: ServiceStopReport = {
        service: serviceName(service),
        durationMs: duration >= 0 ? duration : this.totalMs,
        timedOut: duration < 0,
      };
      if (this.errors.has(index)) entry.error = this.errors.get(index);
      return entry;
    });
  }

  /** Names of the services that had not stopped when the timeout expired. */
  timedOut(): string[] {
    return this.services.filter((_, index) => this.durations[index]! < 0).map(serviceName);
  }

  /** Logs one summary line (with the three slowest), each failure and each timeout. */
  log(log: Logger, timeoutMs: number, debug: boolean): void {
    const { services, durations, errors } = this;
    if (services.length === 0) return;
    const slowest: number[] = [];
    let timedOut = 0;
    for (let index = 0; index < services.length; index++) {
      const duration = durations[index]!;
      if (duration < 0) {
        timedOut++;
        log.error(`${serviceName(services[index]!)} did not stop in ${timeoutMs} ms`);
        continue;
      }
      if (debug) log.debug(`${serviceName(services[index]!)} stopped in ${duration.toFixed(1)} ms`);
      if (slowest.length === 3 && duration <= durations[slowest[2]!]!) continue;
      if (slowest.length === 3) slowest.pop();
      let at = slowest.length;
      while (at > 0 && durations[slowest[at - 1]!]! < duration) {
        slowest[at] = slowest[at - 1]!;
        at--;
      }
      slowest[at] = index;
    }
    for (const [index, error] of errors) {
      log.error({ err: error }, `${serviceName(services[index]!)} failed to stop`);
    }
    log.info(
      { stopped: services.length - errors.size - timedOut, failed: errors.size, timedOut },
      `Stopped ${services.length} services in ${this.totalMs.toFixed(1)} ms; slowest: ${slowest
        .map((index) => `${serviceName(services[index]!)} ${durations[index]!.toFixed(1)} ms`)
        .join(', ')}`,
    );
  }
}
