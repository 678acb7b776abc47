import { setMaxListeners } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';

import { InvalidStateError, Service, expectNumber, getLogger, setLongTimeout } from '@aiomisc/core';

import { connectSocket } from './connect';
import { formatPeer, stopDeadline, validateGracefulTimeout, validateTarget } from './options';
import { TCPClientStatistic } from './statistics';

/** @internal */
export const clientLog = getLogger('aiomisc.services.client');

/** The options every TCP/TLS client takes. Durations are milliseconds. */
export interface ClientOptions {
  /** The server's address or host name. @default '127.0.0.1' */
  address?: string;
  /** The server's port (1..65535). Required. */
  port?: number;
  /** One connection attempt (TCP connect, and the TLS handshake) must succeed within this. @default 10000 */
  connectTimeout?: number;
  /** How long stop waits for a running `handleConnection` before it destroys the socket. @default 5000 */
  gracefulTimeout?: number;
  /** The name of this client's statistic in `getStatistics()`. @default null */
  statisticName?: string | null;
}

/**
 * What TCPClient, RobustTCPClient and their TLS twins share: connecting (overridden for TLS),
 * running `handleConnection` on a socket, and a stop that waits for it until a deadline.
 * @internal
 */
export abstract class ClientBase<TOptions extends ClientOptions> extends Service<TOptions> {
  /** This client's counters, also in `getStatistics()`. */
  readonly statistic: TCPClientStatistic;
  /** The validated target and limits. */
  protected readonly target: {
    address: string;
    port: number;
    connectTimeout: number;
    gracefulTimeout: number;
  };
  #controller: AbortController | undefined;
  #task: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #socket: Socket | undefined;
  #closed: Promise<void> | undefined;
  #busy = false;
  #ending = false;

  constructor(...args: ConstructorParameters<typeof Service<TOptions>>) {
    super(...args);
    const { address, port } = validateTarget(this.options);
    this.target = {
      address,
      port,
      connectTimeout: expectNumber('connectTimeout', this.options.connectTimeout ?? 10_000, {
        min: 1,
        allowInfinity: true,
      }),
      gracefulTimeout: validateGracefulTimeout(this.options.gracefulTimeout),
    };
    this.statistic = new TCPClientStatistic(this.statisticKind, this.options.statisticName ?? null);
  }

  /** The statistic kind this class reports under. */
  protected get statisticKind(): string {
    return 'TCPClientStatistic';
  }

  /**
   * Runs on each connection. Return at once for event-style handling, or a promise: the
   * connection is over once it settled and the socket closed. `signal` is aborted at stop.
   * A throw or rejection is logged with the server's address and destroys the socket.
   */
  abstract handleConnection(socket: Socket, signal: AbortSignal): void | Promise<void>;

  /** The current connection, if there is one. */
  get socket(): Socket | undefined {
    return this.#socket;
  }

  /** Makes one connection attempt; the TLS clients override it. */
  protected connect(signal: AbortSignal): Promise<Socket> {
    const { address, port, connectTimeout } = this.target;
    return connectSocket(() => netConnect({ host: address, port }), 'connect', {
      timeoutMs: connectTimeout,
      signal,
    });
  }

  /** `host:port` of the server, for log lines. */
  protected get peer(): string {
    return formatPeer(this.target.address, this.target.port);
  }

  /** Starts a run: a fresh abort signal. */
  protected begin(): AbortSignal {
    if (this.#controller !== undefined) {
      throw new InvalidStateError(`${this.constructor.name} is already started`);
    }
    this.#controller = new AbortController();
    // Every handler of the run may listen to the one signal.
    setMaxListeners(0, this.#controller.signal);
    return this.#controller.signal;
  }

  /** Ends a run that failed to start. */
  protected abandon(): void {
    this.#controller = undefined;
    this.#task = undefined;
  }

  /** Registers what the run does in the background (stop waits for it). */
  protected runInBackground(task: Promise<void>): void {
    this.#task = task;
  }

  /** Runs the handler on `socket`; resolves once it settled and the socket closed. Never rejects. */
  protected async serve(socket: Socket, signal: AbortSignal): Promise<void> {
    const statistic = this.statistic;
    this.#socket = socket;
    this.#ending = false;
    socket.on('error', (error: Error) => {
      statistic.errors++;
      clientLog.debug(
        { err: error },
        `${this.constructor.name}: connection to ${this.peer} failed`,
      );
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.#closed = closed;
    const fail = (error: unknown) => {
      statistic.errors++;
      clientLog.error(
        { err: error },
        `${this.constructor.name}: handler failed for the connection to ${this.peer}`,
      );
      socket.destroy();
    };
    try {
      const result = this.handleConnection(socket, signal);
      if (result !== undefined && typeof result.then === 'function') {
        this.#busy = true;
        await result.then(undefined, fail);
      }
    } catch (error) {
      fail(error);
    } finally {
      this.#busy = false;
    }
    if (signal.aborted) this.#end(socket);
    await closed;
    statistic.bytes_in += socket.bytesRead;
    statistic.bytes_out += socket.bytesWritten;
    if (this.#socket === socket) this.#socket = undefined;
  }

  #end(socket: Socket): void {
    if (this.#ending || socket.destroyed) return;
    this.#ending = true;
    socket.end(() => socket.destroy());
  }

  /**
   * Aborts the signal, ends the connection once its handler is done (waiting for a running
   * handler until `gracefulTimeout`), destroys it at the deadline, and waits for the background
   * work to finish.
   */
  override async stop(_error?: unknown): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    const controller = this.#controller;
    if (controller === undefined) return;
    this.#stopping = (async () => {
      controller.abort(new InvalidStateError(`${this.constructor.name} is stopping`));
      const socket = this.#socket;
      if (socket !== undefined && !this.#busy) this.#end(socket);
      const task = this.#task;
      if (task !== undefined) {
        let timer: { clear(): void } | undefined;
        const expired = await Promise.race([
          task.then(() => false),
          new Promise<boolean>((resolve) => {
            const deadline = stopDeadline(this.target.gracefulTimeout, this.entrypoint);
            timer = setLongTimeout(() => resolve(true), deadline);
          }),
        ]);
        timer?.clear();
        if (expired) {
          // A handler that ignores the signal is left behind; its socket is not.
          const current = this.#socket;
          if (current !== undefined) {
            current.destroy();
            await this.#closed;
            this.#socket = undefined;
          }
        }
      }
    })();
    try {
      await this.#stopping;
    } finally {
      this.#stopping = undefined;
      this.#controller = undefined;
      this.#task = undefined;
    }
  }
}
