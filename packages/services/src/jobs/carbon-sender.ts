import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import {
  expectNumber,
  expectOneOf,
  getLogger,
  getStatistics,
  InvalidArgumentError,
  PeriodicCallback,
  Service,
  setLongTimeout,
} from '@aiomisc/core';

/** Options of {@link CarbonSender}. */
export interface CarbonSenderOptions {
  /** Carbon (Graphite) host. @default '127.0.0.1' */
  host?: string;
  /** Carbon plaintext port. @default 2003 */
  port?: number;
  /** Time between sends, in ms. @default 5000 */
  interval?: number;
  /** `tcp` (one connection per send) or `udp` (one datagram per line). @default 'tcp' */
  protocol?: 'tcp' | 'udp';
  /** Prefix of every metric path, e.g. `'myapp.web-1'`. @default '' */
  namespace?: string;
  /** Only these statistic kinds (e.g. `['CronCallbackStatistic']`). @default every kind */
  kinds?: readonly string[];
  /** How long one send may take before it is given up, in ms. @default 5000 */
  timeout?: number;
}

const log = getLogger('aiomisc.carbon');

/**
 * One path segment: runs of characters other than word characters, digits or `-` become
 * `_`, `_` is trimmed from both ends, and it is lower-cased (the seed's `strip_carbon_ns`).
 */
export function stripCarbonNamespace(segment: string): string {
  return segment
    .replace(/[^\w-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/**
 * Sends core's `getStatistics()` to Graphite/carbon in the plaintext protocol every
 * `interval` (the seed's `CarbonSender`, `aiomisc[carbon]`): one line
 * `<namespace>.<kind>.<name>.<metric> <value> <unix seconds>` per counter, and once more at
 * stop. A carbon that is down costs a logged warning, not an error.
 *
 * @example
 * ```ts
 * const carbon = new CarbonSender({ host: 'graphite.local', namespace: 'api.web-1' });
 * await entrypoint({ services: [carbon] }).start();
 * ```
 */
export class CarbonSender extends Service<CarbonSenderOptions> {
  #periodic: PeriodicCallback | undefined;
  #lastError = 0;

  constructor(options: CarbonSenderOptions = {}) {
    super(options);
    expectNumber('port', this.options.port ?? 2003, { min: 1, max: 65535, integer: true });
    expectNumber('interval', this.options.interval ?? 5000, { min: Number.MIN_VALUE });
    expectNumber('timeout', this.options.timeout ?? 5000, { min: Number.MIN_VALUE });
    expectOneOf('protocol', this.options.protocol ?? 'tcp', ['tcp', 'udp']);
    if (typeof (this.options.host ?? '127.0.0.1') !== 'string' || this.options.host === '') {
      throw new InvalidArgumentError('host', this.options.host, 'a host name or address');
    }
  }

  /** The plaintext lines of one send, for the statistics as they are now. */
  lines(now = Date.now()): string[] {
    const { namespace = '', kinds = [] } = this.options;
    const prefix = namespace
      .split('.')
      .map(stripCarbonNamespace)
      .filter((part) => part !== '');
    const timestamp = Math.floor(now / 1000);
    return getStatistics(...kinds)
      .filter(({ value }) => Number.isFinite(value))
      .map(({ kind, name, metric, value }) => {
        const path = [...prefix, kind, ...(name === null ? [] : [name]), metric]
          .map(stripCarbonNamespace)
          .filter((part) => part !== '')
          .join('.');
        return `${path} ${value} ${timestamp}\n`;
      });
  }

  override async start(): Promise<void> {
    const periodic = new PeriodicCallback(() => this.send(), { name: 'carbon-sender' });
    periodic.start(this.options.interval ?? 5000, { delay: this.options.interval ?? 5000 });
    this.#periodic = periodic;
  }

  /** Stops the schedule and sends the statistics one last time. */
  override async stop(): Promise<void> {
    const periodic = this.#periodic;
    this.#periodic = undefined;
    if (!periodic) return;
    await periodic.stop();
    await this.send();
  }

  /** Sends the statistics now; failures are logged (at most once per 10 s), never thrown. */
  async send(): Promise<void> {
    const payload = this.lines();
    if (payload.length === 0) return;
    try {
      await (this.options.protocol === 'udp' ? this.#sendUdp(payload) : this.#sendTcp(payload));
    } catch (error) {
      const now = Date.now();
      if (now - this.#lastError >= 10_000) {
        this.#lastError = now;
        log.warn(
          `cannot send statistics to ${this.options.host ?? '127.0.0.1'}:${this.options.port ?? 2003}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  #sendTcp(lines: string[]): Promise<void> {
    const { host = '127.0.0.1', port = 2003, timeout = 5000 } = this.options;
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setLongTimeout(() => {
        socket.destroy(new Error(`no connection in ${timeout} ms`));
      }, timeout);
      socket.once('error', (error) => {
        timer.clear();
        reject(error);
      });
      socket.once('close', () => {
        timer.clear();
        resolve();
      });
      socket.end(lines.join(''));
    });
  }

  async #sendUdp(lines: string[]): Promise<void> {
    const { host = '127.0.0.1', port = 2003 } = this.options;
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    try {
      for (const line of lines) {
        await new Promise<void>((resolve, reject) =>
          socket.send(line, port, host, (error) => (error ? reject(error) : resolve())),
        );
      }
    } finally {
      socket.close();
    }
  }
}
