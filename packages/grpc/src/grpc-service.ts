import * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import {
  expectBoolean,
  expectNumber,
  expectOneOf,
  getLogger,
  InvalidArgumentError,
  InvalidStateError,
  Service,
  setLongTimeout,
  tlsServerOptions,
  type LongTimeout,
  type TlsFileOptions,
} from '@aiomisc/core';
import { BindError } from './errors/bind-error';
import { UnknownServiceError } from './errors/unknown-service-error';
import { wrapHandler, type ServiceImplementation } from './handlers';
import {
  HEALTH_SERVICE_NAME,
  HealthState,
  loadHealthProtos,
  SERVING_STATUSES,
  type ServingStatus,
} from './health';
import { packageDefinitionOf } from './load-protos';
import { GRPCMethodStatistic } from './statistic';

const log = getLogger('aiomisc.grpc');

/** The compression algorithms grpc-js knows, by the names of its channel argument. */
export const COMPRESSION_ALGORITHMS = ['identity', 'deflate', 'gzip'] as const;
/** One of {@link COMPRESSION_ALGORITHMS}. */
export type CompressionAlgorithm = (typeof COMPRESSION_ALGORITHMS)[number];

/** The Python's `GRACEFUL_STOP_TIME`: 60 s. */
const DEFAULT_STOP_TIMEOUT = 60_000;
/** The part of the entrypoint's `shutdownTimeout` the graceful phase may use. */
const SHARE_OF_SHUTDOWN_TIMEOUT = 0.9;

/** Options of {@link GRPCService}. */
export interface GRPCServiceOptions {
  /**
   * The default compression, passed to grpc-js as `grpc.default_compression_algorithm`.
   * Requests compressed by clients (gzip, deflate) are accepted whatever this says; grpc-js
   * 1.14 never compresses replies (see the README).
   * @default undefined (identity)
   */
  compression?: CompressionAlgorithm;
  /**
   * Serve `grpc.reflection.v1` and `v1alpha` (`@grpc/reflection`) for the added services.
   * @default false
   */
  reflection?: boolean;
  /**
   * Serve the standard `grpc.health.v1.Health` service: SERVING for `''` and every added
   * service once `start()` resolved, NOT_SERVING as soon as `stop()` begins.
   * @default false
   */
  health?: boolean;
  /** grpc-js server options (channel arguments such as `grpc.max_receive_message_length`). */
  options?: grpc.ServerOptions;
  /**
   * How long (ms) `stop()` lets calls in flight finish before it cancels them
   * (`forceShutdown`). Under an entrypoint it is cut to 90 % of the entrypoint's
   * `shutdownTimeout`, so the force happens before the entrypoint gives up. `Infinity` waits
   * for the calls (within that bound).
   * @default 60000
   */
  stopTimeout?: number;
  /** A prefix for the names of the per-method statistics. @default null */
  statisticName?: string | null;
}

/**
 * TLS material for {@link GRPCService.addSecurePort}, as the other `@aiomisc/*` TLS servers take
 * it: each of `cert`, `key`, `ca` is PEM contents (with a `-----BEGIN` line) or a path to a PEM
 * file, read when the port is added.
 */
export interface TLSOptions extends TlsFileOptions {
  /** The server certificate chain. */
  cert: string | Buffer;
  /** Its private key. */
  key: string | Buffer;
}

/** A port of a started {@link GRPCService}. */
export interface BoundPort {
  /** The address as given to `addInsecurePort` / `addSecurePort`. */
  readonly address: string;
  /** The port bound (port 0 resolved). */
  readonly port: number;
  /** Whether it was added by `addSecurePort`. */
  readonly secure: boolean;
}

/** Options of {@link GRPCService.addService}. */
export interface AddServiceOptions {
  /**
   * The proto-loader package definition the service comes from, for reflection; not needed
   * for definitions made by `loadProtos`.
   */
  packageDefinition?: PackageDefinition;
}

interface ServiceEntry {
  name: string;
  definition: grpc.ServiceDefinition;
  handlers: grpc.UntypedServiceImplementation;
  packageDefinition: PackageDefinition | undefined;
}

interface PortEntry {
  address: string;
  credentials: grpc.ServerCredentials;
  secure: boolean;
}

/**
 * A gRPC server as an aiomisc service, on `@grpc/grpc-js`: the seed's `GRPCService`.
 *
 * Add services (definitions from {@link loadProtos}, implementations with async or grpc-js
 * handlers) and ports before `start()`. `start()` resolves once every port is bound, and
 * `ports` tells the bound port numbers; if one port cannot be bound, the others are closed
 * again and `start()` rejects with a {@link BindError}. `stop()` turns health to NOT_SERVING,
 * stops accepting calls, lets the calls in flight finish for up to `stopTimeout`, then
 * cancels what is left.
 *
 * @example
 * ```ts
 * const protos = loadProtos('hello.proto');
 * const service = new GRPCService({ health: true, reflection: true });
 * service.addService(protos.service('helloworld.Greeter'), {
 *   SayHello: async (call) => ({ message: `Hello, ${call.request.name}!` }),
 * });
 * service.addInsecurePort('127.0.0.1:0');
 * await using ep = await entrypoint({ services: [service] }).start();
 * console.log(service.ports[0].port);
 * ```
 */
export class GRPCService extends Service<GRPCServiceOptions> {
  static override defaults: GRPCServiceOptions = {
    reflection: false,
    health: false,
    stopTimeout: DEFAULT_STOP_TIMEOUT,
    statisticName: null,
  };

  readonly #services: ServiceEntry[] = [];
  readonly #ports: PortEntry[] = [];
  readonly #health = new HealthState();
  #server: grpc.Server | undefined;
  #bound: BoundPort[] = [];
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: GRPCServiceOptions = {}) {
    super(options);
    const { compression, reflection, health, stopTimeout, statisticName } = this.options;
    if (compression !== undefined) expectOneOf('compression', compression, COMPRESSION_ALGORITHMS);
    if (reflection !== undefined) expectBoolean('reflection', reflection);
    if (health !== undefined) expectBoolean('health', health);
    expectNumber('stopTimeout', stopTimeout, { min: 0, allowInfinity: true });
    if (
      statisticName !== null &&
      statisticName !== undefined &&
      typeof statisticName !== 'string'
    ) {
      throw new InvalidArgumentError('statisticName', statisticName, 'a string or null');
    }
    const serverOptions: unknown = this.options.options;
    if (
      serverOptions !== undefined &&
      (typeof serverOptions !== 'object' || serverOptions === null || Array.isArray(serverOptions))
    ) {
      throw new InvalidArgumentError(
        'options',
        serverOptions,
        'an object of grpc-js server options',
      );
    }
  }

  /** The ports bound by the running server, in the order they were added; empty when stopped. */
  get ports(): readonly BoundPort[] {
    return this.#bound;
  }

  /** The running grpc-js server (for what this class does not cover), or undefined. */
  get server(): grpc.Server | undefined {
    return this.#server;
  }

  /**
   * Adds a service: its definition (`protos.service(name)` or any grpc-js service definition)
   * and an implementation whose methods are async functions or grpc-js handlers (see
   * {@link GRPCHandler}). Methods without a handler answer UNIMPLEMENTED.
   * @throws {@link UnknownServiceError} when the implementation has a method the service does not define
   * @throws {@link InvalidStateError} when the server is running
   */
  addService(
    definition: grpc.ServiceDefinition,
    implementation: ServiceImplementation,
    options: AddServiceOptions = {},
  ): this {
    this.#assertIdle('addService');
    const methods = serviceMethods(definition);
    const name = serviceNameOf(methods);
    if (this.#services.some((entry) => entry.name === name)) {
      throw new InvalidArgumentError('definition', name, 'a service not added yet');
    }
    if (typeof implementation !== 'object' || implementation === null) {
      throw new InvalidArgumentError('implementation', implementation, 'an object of handlers');
    }
    const known = new Set<string>();
    for (const [key, method] of methods) {
      known.add(key);
      if (typeof method.originalName === 'string') known.add(method.originalName);
    }
    for (const [key, handler] of Object.entries(implementation)) {
      if (!known.has(key)) {
        const names = methods.map(([method]) => method);
        throw new UnknownServiceError(
          `${name}.${key}`,
          names,
          `${name} has no method ${JSON.stringify(key)}; it defines ${names.join(', ')}`,
        );
      }
      if (typeof handler !== 'function') {
        throw new InvalidArgumentError(`implementation.${key}`, handler, 'a function');
      }
    }
    const packageDefinition = options.packageDefinition ?? packageDefinitionOf(definition);
    if (this.options.reflection && packageDefinition === undefined) {
      throw new InvalidArgumentError(
        'packageDefinition',
        undefined,
        `the proto-loader package definition of ${name} (reflection is on and the definition did not come from loadProtos)`,
      );
    }
    const prefix = this.options.statisticName ? `${this.options.statisticName}:` : '';
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [key, method] of methods) {
      const handler = implementation[key] ?? implementation[method.originalName ?? key];
      if (handler === undefined) continue;
      handlers[key] = wrapHandler(
        method,
        handler,
        new GRPCMethodStatistic(`${prefix}${method.path}`),
      );
    }
    this.#services.push({ name, definition, handlers, packageDefinition });
    return this;
  }

  /**
   * Listens on `address` (`host:port`, `[::]:0`, `unix:/path`) without TLS once started; port
   * 0 picks a free port (see {@link GRPCService.ports}).
   * @throws {@link InvalidStateError} when the server is running
   */
  addInsecurePort(address: string): this {
    this.#assertIdle('addInsecurePort');
    this.#ports.push({
      address: expectAddress(address),
      credentials: grpc.ServerCredentials.createInsecure(),
      secure: false,
    });
    return this;
  }

  /**
   * Listens on `address` with TLS once started: grpc-js `ServerCredentials`, or
   * `{ cert, key, ca?, verify? }` (PEM contents or file paths; see {@link TLSOptions}).
   * @throws {@link InvalidStateError} when the server is running
   */
  addSecurePort(address: string, credentials: grpc.ServerCredentials | TLSOptions): this {
    this.#assertIdle('addSecurePort');
    this.#ports.push({
      address: expectAddress(address),
      credentials: toServerCredentials(credentials),
      secure: true,
    });
    return this;
  }

  /**
   * Sets what the health service answers for `service` (`''` is the whole server).
   * @throws InvalidArgumentError when `status` is not UNKNOWN, SERVING or NOT_SERVING
   */
  setServingStatus(service: string, status: ServingStatus): void {
    if (typeof service !== 'string') throw new InvalidArgumentError('service', service, 'a string');
    this.#health.set(service, expectOneOf('status', status, SERVING_STATUSES));
  }

  /** What the health service answers for `service` now (undefined: not known). */
  getServingStatus(service = ''): ServingStatus | undefined {
    return this.#health.get(service);
  }

  /**
   * Builds the grpc-js server and binds every port; resolves once all are bound.
   * @throws {@link BindError} when a port cannot be bound (the others are closed again)
   * @throws {@link InvalidStateError} when already running or no port was added
   */
  override async start(): Promise<void> {
    if (this.#server || this.#starting) {
      throw new InvalidStateError('GRPCService is already started');
    }
    if (this.#ports.length === 0) {
      throw new InvalidStateError(
        'GRPCService has no port: call addInsecurePort() or addSecurePort() before start()',
      );
    }
    const starting = this.#bind();
    this.#starting = starting;
    try {
      await starting;
    } finally {
      this.#starting = undefined;
    }
  }

  /**
   * Stops gracefully: health NOT_SERVING, no new calls, calls in flight finish until
   * `stopTimeout`, then the rest is cancelled. Safe to call before start and more than once.
   */
  override async stop(_error?: unknown): Promise<void> {
    this.#stopping ??= this.#shutdown().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #bind(): Promise<void> {
    const server = new grpc.Server(this.#serverOptions());
    for (const entry of this.#services) server.addService(entry.definition, entry.handlers);
    const names = this.#services.map((entry) => entry.name);
    if (this.options.health) {
      const healthProtos = loadHealthProtos();
      server.addService(healthProtos.service(HEALTH_SERVICE_NAME), this.#health.implementation());
    }
    if (this.options.reflection) {
      const merged: PackageDefinition = {};
      for (const entry of this.#services) Object.assign(merged, entry.packageDefinition);
      if (this.options.health) Object.assign(merged, loadHealthProtos().packageDefinition);
      const listed = this.options.health ? [...names, HEALTH_SERVICE_NAME] : names;
      new ReflectionService(merged, { services: listed }).addToServer(server);
    }
    const bound: BoundPort[] = [];
    try {
      for (const entry of this.#ports) {
        const port = await bindPort(server, entry);
        bound.push(Object.freeze({ address: entry.address, port, secure: entry.secure }));
      }
    } catch (error) {
      await closeServer(server, 0);
      throw error;
    }
    this.#server = server;
    this.#bound = bound;
    this.#health.reset();
    if (this.options.health) {
      for (const name of ['', ...names]) this.#health.set(name, 'SERVING');
    }
    // health turns NOT_SERVING as soon as the entrypoint's stop begins, before PRE_STOP
    // receivers and the other services' stops run
    void this.entrypoint?.closing().then(() => {
      if (this.#server === server) this.#notServing();
    });
  }

  #notServing(): void {
    for (const [name] of this.#health.entries()) this.#health.set(name, 'NOT_SERVING');
  }

  async #shutdown(): Promise<void> {
    // no await before the health change when nothing is starting: NOT_SERVING is visible as
    // soon as stop() returns its promise
    if (this.#starting) await this.#starting.catch(() => {});
    const server = this.#server;
    if (!server) return;
    this.#notServing();
    this.#health.endWatches();
    await closeServer(server, this.#stopDeadline());
    this.#server = undefined;
    this.#bound = [];
  }

  #stopDeadline(): number {
    const own = this.options.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
    const shutdownTimeout = this.entrypoint?.options.shutdownTimeout;
    return shutdownTimeout === undefined
      ? own
      : Math.min(own, shutdownTimeout * SHARE_OF_SHUTDOWN_TIMEOUT);
  }

  #serverOptions(): grpc.ServerOptions {
    const options: grpc.ServerOptions = { ...this.options.options };
    const { compression } = this.options;
    if (compression !== undefined) {
      options['grpc.default_compression_algorithm'] = COMPRESSION_ALGORITHMS.indexOf(compression);
    }
    return options;
  }

  #assertIdle(method: string): void {
    if (this.#server || this.#starting) {
      throw new InvalidStateError(`GRPCService.${method}() must be called before start()`);
    }
  }
}

function expectAddress(address: unknown): string {
  if (typeof address !== 'string' || address.trim() === '') {
    throw new InvalidArgumentError('address', address, 'a "host:port" string');
  }
  return address;
}

function serviceMethods(definition: unknown): [string, grpc.MethodDefinition<unknown, unknown>][] {
  if (typeof definition !== 'object' || definition === null) {
    throw new InvalidArgumentError('definition', definition, 'a gRPC service definition');
  }
  const methods = Object.entries(definition as Record<string, unknown>);
  const valid =
    methods.length > 0 &&
    methods.every(
      ([, method]) =>
        typeof method === 'object' &&
        method !== null &&
        typeof (method as { path?: unknown }).path === 'string',
    );
  if (!valid) {
    throw new InvalidArgumentError(
      'definition',
      definition,
      'a gRPC service definition (from loadProtos(...).service(name))',
    );
  }
  return methods as [string, grpc.MethodDefinition<unknown, unknown>][];
}

function serviceNameOf(methods: [string, grpc.MethodDefinition<unknown, unknown>][]): string {
  const path = methods[0]?.[1].path ?? '';
  return path.slice(1, path.lastIndexOf('/'));
}

function toServerCredentials(credentials: unknown): grpc.ServerCredentials {
  if (credentials instanceof grpc.ServerCredentials) return credentials;
  if (typeof credentials === 'object' && credentials !== null) {
    const maybe = credentials as Partial<TLSOptions> & { _isSecure?: unknown };
    if (typeof maybe._isSecure === 'function') return credentials as grpc.ServerCredentials;
    if (maybe.cert !== undefined || maybe.key !== undefined) {
      const tls = tlsServerOptions(maybe, 'credentials.');
      return grpc.ServerCredentials.createSsl(
        (tls.ca as Buffer | undefined) ?? null,
        [{ cert_chain: tls.cert as Buffer, private_key: tls.key as Buffer }],
        tls.requestCert,
      );
    }
  }
  throw new InvalidArgumentError(
    'credentials',
    credentials,
    'grpc.ServerCredentials or { cert, key, ca?, verify? } (PEM contents or file paths)',
  );
}

function bindPort(server: grpc.Server, entry: PortEntry): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(entry.address, entry.credentials, (error, port) => {
      if (error) reject(new BindError(entry.address, error));
      else resolve(port);
    });
  });
}

/**
 * `tryShutdown`, then `forceShutdown` after `deadline` ms; resolves once every listener and
 * session is closed (the tryShutdown callback also fires after a force).
 */
function closeServer(server: grpc.Server, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    let timer: LongTimeout | undefined;
    let closed = false;
    server.tryShutdown(() => {
      closed = true;
      timer?.clear();
      resolve();
    });
    if (closed) return;
    if (deadline <= 0) server.forceShutdown();
    else if (deadline !== Infinity) {
      timer = setLongTimeout(() => {
        log.warn(`gRPC calls still running after ${deadline} ms; cancelling them`);
        server.forceShutdown();
      }, deadline);
    }
  });
}
