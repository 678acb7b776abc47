import { expectNumber, sleep } from '@aiomisc/core';

import type { ClientOptions } from './client-base';
import { ClientBase, clientLog } from './client-base';
import type { ReconnectOptions, ReconnectPolicy } from './reconnect';
import { reconnectPause, reconnectPolicy } from './reconnect';

/** Options of {@link TCPClient}. Durations are milliseconds. */
export interface TCPClientOptions extends ClientOptions {
  /** Connection attempts before `start()` gives up (the seed's `connect_attempts`). @default 5 */
  connectAttempts?: number;
  /** The pause between attempts (the seed's `connect_retry_timeout`). @default 3000 */
  connectRetryDelay?: number;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A TCP client as a service: subclass it and implement `handleConnection(socket, signal)`.
 * `start()` connects (up to `connectAttempts` times, `connectRetryDelay` apart) and resolves once
 * connected, with the handler running; it rejects with the last error when every attempt failed.
 * Stop aborts `signal`, waits for a running handler until `gracefulTimeout`, then destroys the socket.
 *
 * @example
 * ```ts
 * class Hello extends TCPClient {
 *   async handleConnection(socket: Socket) {
 *     socket.end('hello\n');
 *   }
 * }
 * await new Hello({ address: '127.0.0.1', port: 8901 }).start();
 * ```
 */
export abstract class TCPClient<
  TOptions extends TCPClientOptions = TCPClientOptions,
> extends ClientBase<TOptions> {
  readonly #attempts: number;
  readonly #retryDelay: number;

  constructor(...args: ConstructorParameters<typeof ClientBase<TOptions>>) {
    super(...args);
    this.#attempts = expectNumber('connectAttempts', this.options.connectAttempts ?? 5, {
      min: 1,
      integer: true,
    });
    this.#retryDelay = expectNumber('connectRetryDelay', this.options.connectRetryDelay ?? 3000, {
      min: 0,
    });
  }

  protected override get statisticKind(): string {
    return 'TCPClientStatistic';
  }

  /** Connects and starts the handler; rejects when every attempt failed or stop was called. */
  async start(): Promise<void> {
    const signal = this.begin();
    for (let attempt = 1; ; attempt++) {
      try {
        const socket = await this.connect(signal);
        if (signal.aborted) {
          // Connected just as stop was called: the handler never runs.
          socket.destroy();
          throw signal.reason;
        }
        this.statistic.connects++;
        this.runInBackground(this.serve(socket, signal));
        return;
      } catch (error) {
        if (signal.aborted) {
          this.abandon();
          throw signal.reason;
        }
        this.statistic.failures++;
        if (attempt >= this.#attempts) {
          this.abandon();
          throw error;
        }
        clientLog.warn(
          `${this.constructor.name}: connecting to ${this.peer} failed (${errorText(error)}), attempt ${attempt} of ${this.#attempts}`,
        );
        try {
          await sleep(this.#retryDelay, { signal });
        } catch (reason) {
          this.abandon();
          throw reason;
        }
      }
    }
  }
}

/** Options of {@link RobustTCPClient}. Durations are milliseconds. */
export interface RobustTCPClientOptions extends ClientOptions {
  /** Pauses between attempts: growing, with jitter, bounded, and when to give up. */
  reconnect?: ReconnectOptions;
  /**
   * `start()` resolves at the first connection (and rejects if the client gives up before it);
   * with false it resolves at once and connects in the background.
   * @default true
   */
  waitForConnection?: boolean;
}

/**
 * A TCP client that stays connected: it connects when started and, when the server is not up
 * yet or goes away, reconnects with growing pauses (`reconnect`: pause, factor, maxPause,
 * jitter; give up after `maxTries` failures in a row or when `giveup(error)` says so) until
 * stopped. Connections, reconnects and failures are counted in `getStatistics('RobustTCPClientStatistic')`.
 *
 * @example
 * ```ts
 * class Feed extends RobustTCPClient {
 *   handleConnection(socket: Socket) {
 *     socket.on('data', (chunk) => console.log(chunk.toString()));
 *   }
 * }
 * const feed = new Feed({ port: 9000, reconnect: { pause: 100, maxPause: 5000 } });
 * ```
 */
export abstract class RobustTCPClient<
  TOptions extends RobustTCPClientOptions = RobustTCPClientOptions,
> extends ClientBase<TOptions> {
  readonly #policy: ReconnectPolicy;
  /** The error the client gave up with, if it did. */
  gaveUpWith: unknown = undefined;

  constructor(...args: ConstructorParameters<typeof ClientBase<TOptions>>) {
    super(...args);
    this.#policy = reconnectPolicy(this.options.reconnect);
  }

  protected override get statisticKind(): string {
    return 'RobustTCPClientStatistic';
  }

  /** Starts the connect loop; resolves at the first connection unless `waitForConnection: false`. */
  async start(): Promise<void> {
    const signal = this.begin();
    this.gaveUpWith = undefined;
    if (this.options.waitForConnection === false) {
      this.runInBackground(this.#loop(signal, undefined));
      return;
    }
    try {
      await new Promise<void>((resolve, reject) => {
        this.runInBackground(this.#loop(signal, { resolve, reject }));
      });
    } catch (error) {
      if (!signal.aborted) this.abandon();
      throw error;
    }
  }

  async #loop(
    signal: AbortSignal,
    first: { resolve: () => void; reject: (error: unknown) => void } | undefined,
  ): Promise<void> {
    const policy = this.#policy;
    const statistic = this.statistic;
    let failures = 0;
    let connectedBefore = false;
    while (!signal.aborted) {
      let socket;
      try {
        socket = await this.connect(signal);
        if (signal.aborted) {
          socket.destroy();
          break;
        }
      } catch (error) {
        if (signal.aborted) break;
        statistic.failures++;
        failures++;
        if (this.#givesUp(error, failures)) {
          this.gaveUpWith = error;
          clientLog.error(
            { err: error },
            `${this.constructor.name}: gave up connecting to ${this.peer} after ${failures} failed attempts`,
          );
          first?.reject(error);
          return;
        }
        const delay = reconnectPause(policy, failures - 1);
        clientLog.warn(
          `${this.constructor.name}: connecting to ${this.peer} failed (${errorText(error)}), next attempt in ${Math.round(delay)} ms`,
        );
        try {
          await sleep(delay, { signal });
        } catch {
          break;
        }
        continue;
      }
      failures = 0;
      statistic.connects++;
      if (connectedBefore) statistic.reconnects++;
      connectedBefore = true;
      first?.resolve();
      await this.serve(socket, signal);
      if (signal.aborted) break;
      clientLog.info(`${this.constructor.name}: connection to ${this.peer} closed, reconnecting`);
      try {
        await sleep(reconnectPause(policy, 0), { signal });
      } catch {
        break;
      }
    }
    first?.reject(signal.reason);
  }

  #givesUp(error: unknown, failures: number): boolean {
    if (failures >= this.#policy.maxTries) return true;
    const giveup = this.#policy.giveup;
    if (giveup === undefined) return false;
    try {
      return giveup(error);
    } catch (giveupError) {
      clientLog.error({ err: giveupError }, `${this.constructor.name}: reconnect.giveup threw`);
      return true;
    }
  }
}
