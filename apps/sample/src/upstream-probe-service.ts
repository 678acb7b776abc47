import { getLogger, PeriodicCallback, Service } from '@aiomisc/core';
import { asyncbackoff, CircuitBreaker, CircuitBroken } from '@aiomisc/resilience';

const log = getLogger('sample.upstream');

/** What the probe shares through the context. */
export interface UpstreamState {
  breaker: CircuitBreaker;
  ok: number;
  failed: number;
  broken: number;
}

/**
 * Calls an upstream URL every `intervalMs` through a retry with timeouts and a circuit breaker:
 * the outbound call every service makes, protected the aiomisc way. The URL defaults to the
 * status page's own /health, read from the context.
 */
export class UpstreamProbeService extends Service<{ url?: string; intervalMs?: number }> {
  static override defaults = { intervalMs: 1000 };
  readonly state: UpstreamState = {
    breaker: new CircuitBreaker({
      errorRatio: 0.5,
      responseTime: 10_000,
      statisticName: 'upstream',
    }),
    ok: 0,
    failed: 0,
    broken: 0,
  };
  #periodic = new PeriodicCallback(() => this.#probe(), { name: 'upstream-probe' });
  #fetch = asyncbackoff({ attemptTimeout: 500, deadline: 2000, pause: 100, maxTries: 3 })(
    async (signal, url: string) => {
      const response = await fetch(url, { signal });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      return response.text();
    },
  );
  #url = '';

  async start() {
    this.#url = this.options.url ?? `${await this.context.get<string>('status-url')}health`;
    this.context.set('upstream', this.state);
    this.#periodic.start(this.options.intervalMs!);
  }

  override async stop() {
    await this.#periodic.stop();
  }

  async #probe() {
    try {
      await this.state.breaker.call(() => this.#fetch(this.#url));
      this.state.ok++;
    } catch (error) {
      if (CircuitBroken.isInstance(error)) this.state.broken++;
      else {
        this.state.failed++;
        log.warn({ err: error }, `upstream ${this.#url} failed`);
      }
    }
  }
}
