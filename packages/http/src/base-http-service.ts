import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

import {
  Entrypoint,
  getLogger,
  InvalidArgumentError,
  InvalidStateError,
  Service,
  serviceName,
  setLongTimeout,
  sleep,
  type EntrypointSignalPayload,
} from '@aiomisc/core';
import { tlsServerOptions } from '@aiomisc/core';

import { HTTPStatistic } from './http-statistic';
import {
  resolveOptions,
  type HTTPServiceOptions,
  type HTTPSServiceOptions,
  type ResolvedHealth,
  type ResolvedOptions,
} from './options';

const log = getLogger('aiomisc.http');

/** A Node request listener, as `http.createServer(listener)` takes it (express apps are one). */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => unknown;

/** The Node server a service listens with: HTTP, HTTPS, or HTTP/2 over TLS. */
export type NodeServer = HttpServer | Http2SecureServer;

/** How the last stop went; see {@link BaseHTTPService.lastShutdown}. */
export interface HTTPShutdownReport {
  /** Requests in flight when the listener closed. */
  inFlightAtClose: number;
  /** Requests still in flight at the deadline, cut by destroying their connections. */
  requestsCut: number;
  /** Connections destroyed at the deadline. */
  connectionsDestroyed: number;
  /** True when the deadline expired before every connection had closed. */
  timedOut: boolean;
  /** The drain delay and the in-flight deadline actually used, in ms. */
  drainDelayMs: number;
  deadlineMs: number;
  /** From the `stop()` call until everything was closed, in ms. */
  durationMs: number;
}

type State = 'idle' | 'starting' | 'running' | 'stopping';
type AnyResponse = ServerResponse & { stream?: unknown };
type AnyRequest = IncomingMessage & { stream?: { session?: ServerHttp2Session } };

const TEXT = 'text/plain; charset=utf-8';

/**
 * The lifecycle shared by {@link HTTPService} and {@link FastifyService}: bind before `start()`
 * resolves, count requests, answer health probes, and stop gracefully. Subclass those two,
 * not this class.
 */
export abstract class BaseHTTPService<
  TOptions extends HTTPServiceOptions = HTTPServiceOptions,
> extends Service<TOptions> {
  static override required: readonly string[] = ['port'];
  static override defaults: object = {
    address: 'localhost',
    drainDelay: 0,
    shutdownTimeout: 5000,
    health: false,
  };
  /** HTTPS twins set it: the TLS options are read and required. @internal */
  protected static secure = false;

  /** This service's request counters (`getStatistics('HTTPStatistic')`). */
  readonly statistic: HTTPStatistic;

  readonly #resolved: ResolvedOptions;
  readonly #tls: ReturnType<typeof tlsServerOptions> | undefined;
  readonly #http2: boolean;
  readonly #healthOnServer: ResolvedHealth | undefined;
  #state: State = 'idle';
  #ready = false;
  /** Responses get `Connection: close` (HTTP/2 sessions a GOAWAY) from now on. */
  #stopping = false;
  /** The listener is closed: keep-alive sockets that turn idle are closed. */
  #closing = false;
  #stopRequested = false;
  #server: NodeServer | undefined;
  #healthServer: HttpServer | undefined;
  #address: AddressInfo | undefined;
  #healthAddress: AddressInfo | undefined;
  #inner: RequestListener | undefined;
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  #entrypoint: Entrypoint | undefined;
  #lastShutdown: HTTPShutdownReport | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  /** Responses not finished yet, to mark them the last on their connection at stop. */
  readonly #inFlight = new Set<ServerResponse>();
  readonly #onRequest: RequestListener;
  readonly #onResponseClose: (this: ServerResponse) => void;

  constructor(...args: ConstructorParameters<typeof Service<TOptions>>) {
    super(...args);
    const options = this.options as HTTPSServiceOptions;
    this.#resolved = resolveOptions(options);
    const secure = (this.constructor as unknown as { secure: boolean }).secure;
    this.#tls = secure ? tlsServerOptions(options) : undefined;
    if (options.http2 !== undefined && typeof options.http2 !== 'boolean') {
      throw new InvalidArgumentError('http2', options.http2, 'a boolean');
    }
    this.#http2 = secure && options.http2 === true;
    const health = this.#resolved.health;
    this.#healthOnServer = health && health.port === undefined ? health : undefined;
    const statistic = (this.statistic = new HTTPStatistic(this.#resolved.statisticName));

    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const service = this;
    const inFlight = this.#inFlight;
    this.#onResponseClose = function (this: ServerResponse) {
      statistic.in_flight--;
      inFlight.delete(this);
      const status = this.statusCode;
      if (!(this.writableFinished ?? this.writableEnded)) statistic.aborted++;
      else if (status >= 500) statistic.errors_5xx++;
      else if (status >= 400) statistic.errors_4xx++;
      if (service.#closing) service.#closeIdle();
    };
    this.#onRequest = (request, response) => {
      if (this.#healthOnServer !== undefined && this.#answerHealth(request, response)) return;
      statistic.requests++;
      statistic.in_flight++;
      inFlight.add(response);
      response.on('close', this.#onResponseClose);
      if (this.#stopping) this.#lastOnConnection(request, response);
      let result: unknown;
      try {
        result = this.#inner!(request, response);
      } catch (error) {
        this.#handlerFailed(error, response);
        return;
      }
      if (
        result !== undefined &&
        result !== null &&
        typeof (result as PromiseLike<unknown>).then === 'function'
      ) {
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
          this.#handlerFailed(error, response),
        );
      }
    };
  }

  /**
   * Makes the request listener the server calls, once per start, before the server is bound.
   * `server` is the Node server that will listen.
   * @internal
   */
  protected abstract createRequestListener(server: NodeServer): Promise<RequestListener>;

  /** Called after the listener closed and connections are gone (fastify's `close()`). @internal */
  protected async afterClose(): Promise<void> {}

  /** The bound `{ address, family, port }` of the service's server. */
  address(): AddressInfo {
    if (!this.#address) throw new InvalidStateError(`${serviceName(this)} is not listening`);
    return this.#address;
  }

  /** The bound address of the separate health server (`health.port`). */
  healthAddress(): AddressInfo {
    if (!this.#healthAddress) {
      throw new InvalidStateError(`${serviceName(this)} has no separate health server running`);
    }
    return this.#healthAddress;
  }

  /** The Node server while the service runs (for tests and for `upgrade` handlers). */
  get server(): NodeServer | undefined {
    return this.#server;
  }

  /**
   * True from the entrypoint's POST_START of this service until its PRE_STOP (or, without an
   * entrypoint, from the end of `start()` until `stop()`): what the readiness route answers.
   */
  get isReady(): boolean {
    return this.#ready;
  }

  /** True while the server serves (started and not yet fully stopped): the liveness route. */
  get isLive(): boolean {
    return this.#state === 'running' || this.#state === 'stopping';
  }

  /** How the last stop went: requests drained, connections destroyed at the deadline. */
  get lastShutdown(): HTTPShutdownReport | undefined {
    return this.#lastShutdown;
  }

  /**
   * Creates the application, binds the server (and the health server), and resolves once it
   * accepts connections. A failure closes whatever was bound.
   * @throws {@link InvalidStateError} when already started.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') {
      throw new InvalidStateError(`${serviceName(this)} cannot start: it is ${this.#state}`);
    }
    this.#state = 'starting';
    this.#stopRequested = false;
    this.#startPromise = (async () => {
      try {
        await this.#start();
      } catch (error) {
        await this.#abandon();
        throw error;
      }
    })();
    await this.#startPromise;
  }

  async #start(): Promise<void> {
    const server = this.#createServer();
    this.#server = server;
    this.#inner = await this.createRequestListener(server);
    if (this.#stopRequested)
      throw new InvalidStateError(`${serviceName(this)} was stopped while starting`);
    const { address, port } = this.#resolved;
    this.#address = await listen(server, { ...this.options.listen, host: address, port });
    const health = this.#resolved.health;
    if (health?.port !== undefined) {
      const healthServer = createHttpServer((request, response) => {
        if (!this.#answerHealth(request, response)) {
          response.writeHead(404, { 'content-type': TEXT }).end('Not Found');
        }
      });
      this.#healthServer = healthServer;
      this.#healthAddress = await listen(healthServer, {
        host: health.address ?? address,
        port: health.port,
      });
    }
    if (this.#stopRequested)
      throw new InvalidStateError(`${serviceName(this)} was stopped while starting`);
    const entrypoint = this.entrypoint;
    if (entrypoint) {
      this.#entrypoint = entrypoint;
      Entrypoint.POST_START.connect(this.#onPostStart);
      Entrypoint.PRE_STOP.connect(this.#onPreStop);
    } else {
      this.#ready = true;
    }
    this.#state = 'running';
    log.info(`${serviceName(this)} listening on ${this.#url(this.#address)}`);
  }

  /**
   * Stops gracefully: readiness false, `drainDelay`, close the listener (idle keep-alive
   * connections at once, the others after their response, sent with `Connection: close`),
   * wait for requests in flight until the deadline, destroy what is left. A second call
   * returns the same promise; a call before `start()` does nothing.
   */
  override async stop(_error?: unknown): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    if (this.#state === 'idle') return;
    this.#stopPromise = this.#stop().finally(() => {
      this.#stopPromise = undefined;
    });
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    const t0 = performance.now();
    this.#ready = false;
    this.#stopRequested = true;
    if (this.#state === 'starting') {
      try {
        await this.#startPromise;
      } catch {
        return; // start() failed and released what it had bound
      }
    }
    this.#state = 'stopping';
    this.#stopping = true;
    this.#disconnect();
    for (const response of this.#inFlight) this.#lastOnConnection(response.req, response);
    const server = this.#server!;
    const { drainDelay, deadline } = this.#budget();
    if (drainDelay > 0) await sleep(drainDelay);

    const inFlightAtClose = this.statistic.in_flight;
    this.#closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.#closeIdle();
    for (const session of this.#sessions) if (!session.closed) session.close();

    let timer: ReturnType<typeof setLongTimeout> | undefined;
    const timedOut = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setLongTimeout(() => resolve(true), deadline);
      }),
    ]);
    timer?.clear();
    let connectionsDestroyed = 0;
    let requestsCut = 0;
    if (timedOut) {
      requestsCut = this.statistic.in_flight;
      connectionsDestroyed = this.#sockets.size;
      for (const session of this.#sessions) session.destroy();
      for (const socket of this.#sockets) socket.destroy();
      this.statistic.connections_destroyed += connectionsDestroyed;
      await closed;
    }
    try {
      await this.afterClose();
    } finally {
      await this.#closeHealthServer();
      const report: HTTPShutdownReport = {
        inFlightAtClose,
        requestsCut,
        connectionsDestroyed,
        timedOut,
        drainDelayMs: drainDelay,
        deadlineMs: deadline,
        durationMs: performance.now() - t0,
      };
      this.#lastShutdown = report;
      this.#reset();
      const summary = `${serviceName(this)} stopped in ${report.durationMs.toFixed(1)} ms: ${inFlightAtClose} requests in flight at close`;
      if (timedOut) {
        log.warn(
          report,
          `${summary}; deadline of ${deadline} ms expired: destroyed ${connectionsDestroyed} connections, cutting ${requestsCut} requests`,
        );
      } else {
        log.info(report, `${summary}, all finished`);
      }
    }
  }

  /** The drain delay and in-flight deadline, clamped to the entrypoint's shutdownTimeout. */
  #budget(): { drainDelay: number; deadline: number } {
    let { drainDelay, shutdownTimeout: deadline } = this.#resolved;
    const limit =
      this.#entrypoint?.options.shutdownTimeout ?? this.entrypoint?.options.shutdownTimeout;
    if (limit !== undefined) {
      // Leave the entrypoint a margin to log and to stop the other services.
      const budget = Math.max(0, limit - Math.min(1000, limit * 0.1));
      if (drainDelay + deadline > budget) {
        drainDelay = Math.min(drainDelay, budget);
        deadline = budget - drainDelay;
        log.warn(
          `${serviceName(this)}: drainDelay + shutdownTimeout exceed the entrypoint's shutdownTimeout of ${limit} ms; using a drain of ${drainDelay} ms and a deadline of ${deadline} ms`,
        );
      }
    }
    return { drainDelay, deadline };
  }

  #createServer(): NodeServer {
    const serverOptions = this.options.server ?? {};
    let server: NodeServer;
    if (this.#http2) {
      server = createSecureServer(
        { ...serverOptions, ...this.#tls, allowHTTP1: true },
        this.#onRequest as never,
      );
      server.on('session', (session: ServerHttp2Session) => {
        this.#sessions.add(session);
        session.once('close', () => this.#sessions.delete(session));
      });
    } else if (this.#tls) {
      server = createHttpsServer({ ...serverOptions, ...this.#tls }, this.#onRequest);
    } else {
      server = createHttpServer(serverOptions, this.#onRequest);
    }
    const keepAliveTimeout = this.options.server?.keepAliveTimeout;
    if (keepAliveTimeout !== undefined && 'keepAliveTimeout' in server) {
      server.keepAliveTimeout = keepAliveTimeout;
    }
    server.on('connection', (socket: Socket) => {
      this.statistic.connections++;
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    return server;
  }

  /** Closes keep-alive connections with no request in progress. */
  #closeIdle(): void {
    const server = this.#server as HttpServer | undefined;
    if (typeof server?.closeIdleConnections === 'function') server.closeIdleConnections();
  }

  /** A request that arrives while stopping is the last on its connection. */
  #lastOnConnection(request: AnyRequest, response: AnyResponse): void {
    if (request.httpVersionMajor === 2) {
      const session = request.stream?.session;
      if (session && !session.closed) session.close();
    } else if (!response.headersSent) {
      response.setHeader('connection', 'close');
    }
  }

  /** Answers the health routes; false when the path is not one of them. */
  #answerHealth(request: IncomingMessage, response: ServerResponse): boolean {
    const health = this.#resolved.health!;
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    let status: number;
    let body: string;
    if (path === health.readiness) {
      status = this.#ready ? 200 : 503;
      body = this.#ready ? 'ready' : 'not ready';
    } else if (path === health.liveness) {
      status = this.isLive ? 200 : 503;
      body = this.isLive ? 'live' : 'not live';
    } else {
      return false;
    }
    const headers: Record<string, string> = { 'content-type': TEXT, 'cache-control': 'no-store' };
    if (this.#stopping && request.httpVersionMajor !== 2) headers.connection = 'close';
    response.writeHead(status, headers).end(body);
    return true;
  }

  #handlerFailed(error: unknown, response: ServerResponse): void {
    log.error({ err: error }, `${serviceName(this)}: request handler failed`);
    if (response.writableEnded) return;
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.statusCode = 500;
    response.setHeader('content-type', TEXT);
    response.end('Internal Server Error');
  }

  readonly #onPostStart = ({ entrypoint, services }: EntrypointSignalPayload): void => {
    if (entrypoint === this.#entrypoint && services.includes(this) && this.#state === 'running') {
      this.#ready = true;
    }
  };

  readonly #onPreStop = ({ entrypoint, services }: EntrypointSignalPayload): void => {
    if (entrypoint === this.#entrypoint && services.includes(this)) this.#ready = false;
  };

  #disconnect(): void {
    Entrypoint.POST_START.disconnect(this.#onPostStart);
    Entrypoint.PRE_STOP.disconnect(this.#onPreStop);
  }

  async #closeHealthServer(): Promise<void> {
    const healthServer = this.#healthServer;
    if (!healthServer) return;
    await new Promise<void>((resolve) => {
      healthServer.close(() => resolve());
      healthServer.closeAllConnections();
    });
  }

  /** Releases what a failed start bound. */
  async #abandon(): Promise<void> {
    this.#disconnect();
    const server = this.#server;
    if (server?.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of this.#sockets) socket.destroy();
      });
    }
    try {
      await this.afterClose();
    } catch (error) {
      log.error({ err: error }, `${serviceName(this)}: closing after a failed start failed`);
    }
    await this.#closeHealthServer();
    this.#reset();
  }

  #reset(): void {
    this.#disconnect();
    this.#state = 'idle';
    this.#ready = false;
    this.#stopping = false;
    this.#closing = false;
    this.#server = undefined;
    this.#healthServer = undefined;
    this.#address = undefined;
    this.#healthAddress = undefined;
    this.#inner = undefined;
    this.#entrypoint = undefined;
    this.#startPromise = undefined;
    this.#sockets.clear();
    this.#sessions.clear();
    this.#inFlight.clear();
  }

  #url(address: AddressInfo): string {
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.#tls ? 'https' : 'http'}://${host}:${address.port}`;
  }
}

function listen(
  server: NodeServer,
  options: { host: string; port: number } & Record<string, unknown>,
): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}
