import { type Entrypoint, getStatistics, serviceName, type Service } from '@aiomisc/core';

/** A service that can say more about itself on the status page. */
export interface Describable {
  describe(): Record<string, unknown>;
}

type ServiceState = 'created' | 'starting' | 'running' | 'stopping';

function isDescribable(value: unknown): value is Describable {
  return typeof (value as Partial<Describable>).describe === 'function';
}

/**
 * What the status page shows: each service's state (followed through the entrypoint's
 * signals), what the services tell about themselves, and core's statistics counters.
 */
export class StatusBoard {
  readonly #states = new Map<Service<object>, ServiceState>();
  readonly #extra = new Map<string, () => unknown>();
  readonly startedAt = Date.now();
  #phase = 'created';

  constructor(readonly services: readonly Service<object>[]) {
    for (const service of services) this.#states.set(service, 'created');
  }

  /** Follows `entrypoint` from its PRE_START to its PRE_STOP. */
  follow(entrypoint: Entrypoint): void {
    const mark = (state: ServiceState) => (payload: { services: readonly Service<object>[] }) => {
      for (const service of payload.services) this.#states.set(service, state);
    };
    entrypoint.preStart.connect((payload) => {
      this.#phase = 'starting';
      mark('starting')(payload);
    });
    entrypoint.postStart.connect((payload) => {
      this.#phase = 'running';
      mark('running')(payload);
    });
    entrypoint.preStop.connect((payload) => {
      this.#phase = 'stopping';
      mark('stopping')(payload);
    });
  }

  /** Adds a section to the status document. */
  section(name: string, read: () => unknown): void {
    this.#extra.set(name, read);
  }

  /** The document `/status.json` returns. */
  snapshot(): Record<string, unknown> {
    const statistics = new Map<
      string,
      { kind: string; name: string | null; metrics: Record<string, number> }
    >();
    for (const { kind, name, metric, value } of getStatistics()) {
      const key = `${kind}\u0000${name ?? ''}`;
      let entry = statistics.get(key);
      if (!entry) statistics.set(key, (entry = { kind, name, metrics: {} }));
      // Several unnamed instances of one kind add up.
      entry.metrics[metric] = (entry.metrics[metric] ?? 0) + value;
    }
    const document: Record<string, unknown> = {
      time: new Date().toISOString(),
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      phase: this.#phase,
      services: this.services.map((service) => ({
        name: serviceName(service),
        state: this.#states.get(service),
        ...(isDescribable(service) ? service.describe() : {}),
      })),
    };
    for (const [name, read] of this.#extra) document[name] = read();
    document.statistics = [...statistics.values()].sort(
      (a, b) => a.kind.localeCompare(b.kind) || (a.name ?? '').localeCompare(b.name ?? ''),
    );
    return document;
  }
}
