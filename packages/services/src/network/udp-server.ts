import { setMaxListeners } from 'node:events';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';

import {
  InvalidArgumentError,
  InvalidStateError,
  Service,
  getLogger,
  setLongTimeout,
} from '@aiomisc/core';

import type { BoundAddress, ListenOptions } from './options';
import { formatPeer, stopDeadline, validateListen } from './options';
import { UDPServerStatistic } from './statistics';
import { StartStop } from './start-stop';

const log = getLogger('aiomisc.services.udp');

/** Options of {@link UDPServer}. Durations are milliseconds. */
export interface UDPServerOptions extends ListenOptions {
  /** A bound `dgram.Socket` to serve instead of binding `address`/`port` (the seed's `sock`). @default undefined */
  sock?: UdpSocket;
  /** For `::`, receive IPv6 only. @default false */
  ipv6Only?: boolean;
  /** Allow several sockets on the same address and port. @default false */
  reuseAddr?: boolean;
}

/** Where a datagram goes: an `rinfo` as received, or any `{ address, port }`. */
export interface DatagramTarget {
  address: string;
  port: number;
}

/**
 * A UDP server as a service: subclass it and implement `handleDatagram(data, rinfo, signal)`;
 * reply with `this.sendto(data, rinfo)` (or `await this.send(data, rinfo)` to know it was
 * sent). The socket is bound before `start()` resolves. A handler that throws or rejects is
 * logged with the sender's address. Stop stops receiving at once,
 * aborts `signal`, waits for running handlers (which may still send replies) until
 * `gracefulTimeout`, then closes the socket.
 *
 * @example
 * ```ts
 * class Echo extends UDPServer {
 *   handleDatagram(data: Buffer, rinfo: RemoteInfo) {
 *     this.sendto(data, rinfo);
 *   }
 * }
 * ```
 */
export abstract class UDPServer<
  TOptions extends UDPServerOptions = UDPServerOptions,
> extends Service<TOptions> {
  /** This server's counters, also in `getStatistics('UDPServerStatistic')`. */
  readonly statistic: UDPServerStatistic;
  readonly #config: { address: string; port: number; gracefulTimeout: number };
  #socket: UdpSocket | undefined;
  #controller: AbortController | undefined;
  readonly #lifecycle = new StartStop(this.constructor.name);
  #receiving = false;
  #pending = 0;
  #onIdle: (() => void) | undefined;

  constructor(...args: ConstructorParameters<typeof Service<TOptions>>) {
    super(...args);
    const sock = this.options.sock;
    if (sock !== undefined && (typeof sock !== 'object' || sock === null || !('send' in sock))) {
      throw new InvalidArgumentError('sock', sock, 'a bound dgram.Socket');
    }
    this.#config = validateListen(this.options, sock !== undefined);
    this.statistic = new UDPServerStatistic(this.options.statisticName ?? null);
  }

  /**
   * Runs for each datagram. Return a promise to have stop wait for it (until `gracefulTimeout`);
   * `signal` is aborted when the server stops.
   */
  abstract handleDatagram(
    data: Buffer,
    rinfo: RemoteInfo,
    signal: AbortSignal,
  ): void | Promise<void>;

  /**
   * The bound `{ address, family, port }`.
   * @throws {@link InvalidStateError} when the server is not started.
   */
  address(): BoundAddress {
    if (this.#socket === undefined) {
      throw new InvalidStateError(`${this.constructor.name} is not bound`);
    }
    const { address, family, port } = this.#socket.address();
    return { address, family, port };
  }

  /**
   * Sends a datagram from the server's socket without waiting (the seed's `sendto`): the cheapest
   * reply. A send that fails later is counted in `errors` and logged.
   * @throws {@link InvalidStateError} when the server is not started (or already closed).
   */
  sendto(data: Buffer | Uint8Array | string, target: DatagramTarget): void {
    const socket = this.#socket;
    if (socket === undefined) throw new InvalidStateError(`${this.constructor.name} is not bound`);
    socket.send(data, target.port, target.address);
    const statistic = this.statistic;
    statistic.sent++;
    statistic.bytes_out += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }

  /**
   * Sends a datagram from the server's socket; resolves once it is sent, rejects with the
   * send error.
   * @throws {@link InvalidStateError} (as a rejection) when the server is not started.
   */
  send(data: Buffer | Uint8Array | string, target: DatagramTarget): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined) {
      return Promise.reject(new InvalidStateError(`${this.constructor.name} is not bound`));
    }
    return new Promise<void>((resolve, reject) => {
      socket.send(data, target.port, target.address, (error, bytes) => {
        if (error) {
          this.statistic.errors++;
          reject(error);
          return;
        }
        this.statistic.sent++;
        this.statistic.bytes_out += bytes;
        resolve();
      });
    });
  }

  /** Binds the socket; resolves once it receives datagrams. */
  async start(): Promise<void> {
    await this.#lifecycle.start(() => this.#bind());
  }

  async #bind(): Promise<void> {
    const { address, port } = this.#config;
    const { ipv6Only = false, reuseAddr = false } = this.options;
    let socket = this.options.sock;
    if (socket === undefined) {
      const created = createSocket({
        type: isIP(address) === 6 ? 'udp6' : 'udp4',
        ipv6Only,
        reuseAddr,
      });
      socket = created;
      try {
        await new Promise<void>((resolve, reject) => {
          created.once('error', reject);
          created.bind({ address, port }, () => {
            created.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        created.close();
        throw error;
      }
    }
    const controller = new AbortController();
    // Every handler of the run may listen to the one signal.
    setMaxListeners(0, controller.signal);
    this.#controller = controller;
    this.#socket = socket;
    this.#receiving = true;
    const signal = controller.signal;
    socket.on('error', (error: Error) => {
      // Failed sendto() calls arrive here too.
      this.statistic.errors++;
      log.error({ err: error }, `${this.constructor.name} socket error`);
    });
    socket.on('message', (data: Buffer, rinfo: RemoteInfo) => {
      if (!this.#receiving) return;
      this.#receive(data, rinfo, signal);
    });
    const bound = this.address();
    log.info(`Listening udp://${formatPeer(bound.address, bound.port)}`);
  }

  #receive(data: Buffer, rinfo: RemoteInfo, signal: AbortSignal): void {
    const statistic = this.statistic;
    statistic.received++;
    statistic.bytes_in += data.length;
    let result: void | Promise<void>;
    try {
      result = this.handleDatagram(data, rinfo, signal);
    } catch (error) {
      this.#failed(rinfo, error);
      return;
    }
    if (result !== undefined && typeof result.then === 'function') {
      this.#pending++;
      result.then(
        () => this.#settled(),
        (error: unknown) => {
          this.#failed(rinfo, error);
          this.#settled();
        },
      );
    }
  }

  #settled(): void {
    if (--this.#pending === 0 && this.#onIdle !== undefined) this.#onIdle();
  }

  #failed(rinfo: RemoteInfo, error: unknown): void {
    this.statistic.errors++;
    log.error(
      { err: error },
      `${this.constructor.name}: handler failed for a datagram from ${formatPeer(rinfo.address, rinfo.port)}`,
    );
  }

  /**
   * Stops receiving at once, aborts the handlers' signal, waits for running handlers until
   * `gracefulTimeout` (at most 90 % of the entrypoint's `shutdownTimeout`), then closes the socket.
   */
  override async stop(_error?: unknown): Promise<void> {
    await this.#lifecycle.stop(() => this.#stop());
  }

  async #stop(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#receiving = false;
    this.#controller?.abort(new InvalidStateError(`${this.constructor.name} is stopping`));
    if (this.#pending > 0) {
      const deadline = stopDeadline(this.#config.gracefulTimeout, this.entrypoint);
      let timer: { clear(): void } | undefined;
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        timer = setLongTimeout(resolve, deadline);
      });
      timer?.clear();
      this.#onIdle = undefined;
    }
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.#socket = undefined;
    this.#controller = undefined;
  }
}
