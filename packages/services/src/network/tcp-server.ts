import { setMaxListeners } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

import {
  InvalidArgumentError,
  InvalidStateError,
  Service,
  expectNumber,
  getLogger,
  setLongTimeout,
} from '@aiomisc/core';

import type { BoundAddress, ListenOptions } from './options';
import { formatPeer, stopDeadline, validateListen } from './options';
import { TCPServerStatistic } from './statistics';
import { StartStop } from './start-stop';

const log = getLogger('aiomisc.services.tcp');

/** Options of {@link TCPServer}. Durations are milliseconds. */
export interface TCPServerOptions extends ListenOptions {
  /**
   * A ready listening socket to serve instead of binding `address`/`port` (the seed's `sock`): a
   * listening `net.Server` (from `bindSocket`, whose handle the server takes over) or `{ fd }`.
   * @default undefined
   */
  sock?: Server | { fd: number };
  /** The listen backlog. @default 511 */
  backlog?: number;
  /** For `::`, accept IPv6 only. @default false */
  ipv6Only?: boolean;
}

/** One connection a handler runs for. */
interface Connection {
  socket: Socket;
  /** The handler's promise is pending. */
  busy: boolean;
  /** Stop asked it to end. */
  ending: boolean;
}

/**
 * A TCP server as a service: subclass it and implement `handleClient(socket, signal)`. The
 * listener is bound before `start()` resolves and `address()` tells where. A handler that throws
 * or rejects is logged with the peer's address and only its own connection is destroyed.
 *
 * Stop closes the listener at once, aborts `signal`, ends the connections whose handler has
 * returned (after their buffered data is flushed), waits for running handlers until
 * `gracefulTimeout`, then destroys what is left.
 *
 * @example
 * ```ts
 * class Echo extends TCPServer {
 *   handleClient(socket: Socket) {
 *     socket.pipe(socket);
 *   }
 * }
 * const server = new Echo({ address: '127.0.0.1', port: 0 });
 * await server.start();
 * console.log(server.address().port);
 * await server.stop();
 * ```
 */
export abstract class TCPServer<
  TOptions extends TCPServerOptions = TCPServerOptions,
> extends Service<TOptions> {
  /** This server's counters, also in `getStatistics('TCPServerStatistic')`. */
  readonly statistic: TCPServerStatistic;
  /** The validated listen address, port and stop deadline. */
  protected readonly listenConfig: { address: string; port: number; gracefulTimeout: number };

  #listener: Server | undefined;
  #controller: AbortController | undefined;
  readonly #lifecycle = new StartStop(this.constructor.name);
  #closing = false;
  /** TLS only: every accepted TCP socket, before and after its handshake. */
  readonly #sockets = new Set<Socket>();
  /** Connections that reached the handler. */
  readonly #connections = new Set<Connection>();
  #onDrained: (() => void) | undefined;

  constructor(...args: ConstructorParameters<typeof Service<TOptions>>) {
    super(...args);
    const options = this.options;
    const sock = options.sock;
    if (
      sock !== undefined &&
      !(typeof sock === 'object' && sock !== null && ('listen' in sock || 'fd' in sock))
    ) {
      throw new InvalidArgumentError('sock', sock, 'a listening net.Server or { fd }');
    }
    this.listenConfig = validateListen(options, sock !== undefined);
    expectNumber('backlog', options.backlog ?? 511, { min: 0, integer: true });
    this.statistic = this.createStatistic(options.statisticName ?? null);
  }

  /**
   * Runs for each connection. Return at once for event-style handling (`socket.pipe(socket)`), or
   * return a promise: stop waits for it until `gracefulTimeout`. `signal` is aborted when the
   * server stops. A throw or rejection is logged and destroys this connection only.
   */
  abstract handleClient(socket: Socket, signal: AbortSignal): void | Promise<void>;

  /** @internal the statistic instance; TLSServer reports under its own kind. */
  protected createStatistic(name: string | null): TCPServerStatistic {
    return new TCPServerStatistic(name);
  }

  /** Makes the listening server; TLSServer makes a `tls.Server`. */
  protected createListener(): Server {
    return createServer();
  }

  /** The URL scheme in the "Listening" log line. */
  protected get scheme(): string {
    return 'tcp';
  }

  /**
   * The bound `{ address, family, port }`.
   * @throws {@link InvalidStateError} when the server is not started.
   */
  address(): BoundAddress {
    const bound = this.#listener?.address();
    if (!bound || typeof bound !== 'object') {
      throw new InvalidStateError(`${this.constructor.name} is not listening`);
    }
    return { address: bound.address, family: bound.family, port: bound.port };
  }

  /** Binds the listener; resolves once it accepts connections. */
  async start(): Promise<void> {
    await this.#lifecycle.start(() => this.#listen());
  }

  async #listen(): Promise<void> {
    const listener = this.createListener();
    const controller = new AbortController();
    // Every handler of the run may listen to the one signal.
    setMaxListeners(0, controller.signal);
    this.#closing = false;
    this.#controller = controller;
    this.bindListener(listener, controller.signal);
    const { address, port } = this.listenConfig;
    const { sock, backlog = 511, ipv6Only = false } = this.options;
    try {
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        const done = () => {
          listener.off('error', reject);
          resolve();
        };
        if (sock !== undefined) listener.listen(sock, backlog, done);
        else listener.listen({ host: address, port, backlog, ipv6Only }, done);
      });
    } catch (error) {
      listener.close(() => {});
      throw error;
    }
    // Accept errors (EMFILE) after listening are logged; the listener keeps going.
    listener.on('error', (error: Error) => {
      this.statistic.errors++;
      log.error({ err: error }, `${this.constructor.name} listener error`);
    });
    this.#listener = listener;
    const bound = this.address();
    log.info(`Listening ${this.scheme}://${formatPeer(bound.address, bound.port)}`);
  }

  /** Attaches the connection events; TLSServer hands over at `secureConnection`. */
  protected bindListener(listener: Server, signal: AbortSignal): void {
    listener.on('connection', (socket: Socket) => {
      if (this.#closing) socket.destroy();
      else this.runConnection(socket, signal, true);
    });
  }

  #counted(): void {
    const statistic = this.statistic;
    statistic.accepted++;
    statistic.open++;
  }

  #uncounted(socket: Socket): void {
    const statistic = this.statistic;
    statistic.open--;
    statistic.closed++;
    statistic.bytes_in += socket.bytesRead;
    statistic.bytes_out += socket.bytesWritten;
  }

  #checkDrained(): void {
    if (this.#onDrained !== undefined && this.#sockets.size === 0 && this.#connections.size === 0) {
      this.#onDrained();
    }
  }

  /** TLS: counts and tracks an accepted TCP socket through its handshake (destroyed when stopping). */
  protected trackSocket(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#counted();
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#uncounted(socket);
      this.#sockets.delete(socket);
      this.#checkDrained();
    });
  }

  /**
   * Runs the handler for a connection (for TLS, once the handshake is done). `accepted`: the
   * socket is the accepted TCP socket itself, counted here (TLS counts the raw socket in
   * {@link TCPServer.trackSocket}).
   */
  protected runConnection(socket: Socket, signal: AbortSignal, accepted = false): void {
    if (this.#closing && !accepted) {
      // A TLS handshake that finished as the stop began: no handler starts after the stop.
      socket.destroy();
      return;
    }
    const connection: Connection = { socket, busy: false, ending: false };
    if (accepted) this.#counted();
    this.#connections.add(connection);
    socket.on('error', (error: Error) => this.#socketError(socket, error));
    socket.once('close', () => {
      if (accepted) this.#uncounted(socket);
      this.#connections.delete(connection);
      this.#checkDrained();
    });
    let result: void | Promise<void>;
    try {
      result = this.handleClient(socket, signal);
    } catch (error) {
      this.#handlerFailed(socket, error);
      return;
    }
    if (result !== undefined && typeof result.then === 'function') {
      connection.busy = true;
      result.then(
        () => {
          connection.busy = false;
          if (this.#closing) this.#end(connection);
        },
        (error: unknown) => {
          connection.busy = false;
          this.#handlerFailed(socket, error);
        },
      );
    }
  }

  #socketError(socket: Socket, error: Error): void {
    this.statistic.errors++;
    log.debug(
      { err: error },
      `${this.constructor.name}: connection from ${formatPeer(socket.remoteAddress, socket.remotePort)} failed`,
    );
  }

  #handlerFailed(socket: Socket, error: unknown): void {
    this.statistic.errors++;
    log.error(
      { err: error },
      `${this.constructor.name}: handler failed for ${formatPeer(socket.remoteAddress, socket.remotePort)}`,
    );
    socket.destroy();
  }

  /** Ends a connection whose handler is done: FIN after the buffered data, then the fd goes. */
  #end(connection: Connection): void {
    if (connection.ending) return;
    connection.ending = true;
    const socket = connection.socket;
    if (socket.destroyed) return;
    socket.end(() => socket.destroy());
  }

  /** TLS sockets that are still in their handshake (no handler yet). */
  #handshaking(): Socket[] {
    if (this.#sockets.size === 0 || this.#sockets.size === this.#connections.size) return [];
    const active = new Set<string>();
    for (const { socket } of this.#connections) {
      active.add(`${socket.remoteAddress}|${socket.remotePort}`);
    }
    return [...this.#sockets].filter(
      (socket) => !active.has(`${socket.remoteAddress}|${socket.remotePort}`),
    );
  }

  /**
   * Stops accepting at once, aborts the handlers' signal, ends idle connections, waits for busy
   * handlers until `gracefulTimeout` (at most 90 % of the entrypoint's `shutdownTimeout`), then
   * destroys every connection left. Resolves once the listener and every socket are closed.
   */
  override async stop(_error?: unknown): Promise<void> {
    await this.#lifecycle.stop(() => this.#stop());
  }

  async #stop(): Promise<void> {
    const listener = this.#listener;
    if (listener === undefined) return;
    this.#closing = true;
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    this.#controller?.abort(new InvalidStateError(`${this.constructor.name} is stopping`));
    for (const socket of this.#handshaking()) socket.destroy();
    for (const connection of this.#connections) {
      if (!connection.busy) this.#end(connection);
    }
    if (this.#sockets.size > 0 || this.#connections.size > 0) {
      const deadline = stopDeadline(this.listenConfig.gracefulTimeout, this.entrypoint);
      let timer: { clear(): void } | undefined;
      await new Promise<void>((resolve) => {
        this.#onDrained = resolve;
        timer = setLongTimeout(resolve, deadline);
      });
      timer?.clear();
      // TLS tracks every connection's raw socket; plain TCP only its connections.
      this.statistic.destroyed +=
        this.#sockets.size > 0 ? this.#sockets.size : this.#connections.size;
      for (const { socket } of this.#connections) socket.destroy();
      for (const socket of this.#sockets) socket.destroy();
      if (this.#sockets.size > 0 || this.#connections.size > 0) {
        await new Promise<void>((resolve) => (this.#onDrained = resolve));
      }
      this.#onDrained = undefined;
    }
    await closed;
    this.#listener = undefined;
    this.#controller = undefined;
    this.#connections.clear();
  }
}
