import { Context } from './context';
import {
  resolveEntrypointOptions,
  type EntrypointOptions,
  type ResolvedEntrypointOptions,
} from './entrypoint-options';
import { InvalidArgumentError } from './errors/invalid-argument-error';
import { InterruptSignalError } from './errors/interrupt-signal-error';
import { InvalidStateError } from './errors/invalid-state-error';
import { ShutdownTimeoutError } from './errors/shutdown-timeout-error';
import { Event } from './event';
import { getExtensions, type EntrypointExtension } from './extension';
import { globalSlot } from './global-registry';
import { configureConsoleLogger, getLogger } from './logger';
import { loadPlugins } from './plugins';
import { Service } from './service';
import { ServiceRun, StartBatch, StopBatch } from './service-run';
import { serviceName, ShutdownReport, type ServiceStopReport } from './shutdown-report';
import { Signal } from './signal';

/** What PRE_START, POST_START, PRE_STOP and POST_STOP receivers get. */
export interface EntrypointSignalPayload {
  entrypoint: Entrypoint;
  /** The services being started or stopped by this call. */
  services: readonly Service<object>[];
}

type EntrypointState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

const log = getLogger('aiomisc.entrypoint');
/** A signal this soon after the first one is the same request, relayed by a process runner. */
const SECOND_SIGNAL_GRACE_MS = 500;
const classSignals = globalSlot('entrypoint.signals', () => ({
  PRE_START: new Signal<EntrypointSignalPayload>(),
  POST_START: new Signal<EntrypointSignalPayload>(),
  PRE_STOP: new Signal<EntrypointSignalPayload>(),
  POST_STOP: new Signal<EntrypointSignalPayload>(),
}));
const current = globalSlot('entrypoint.current', () => ({ stack: [] as Entrypoint[] }));

/**
 * Starts services together and stops them gracefully: the seed's `entrypoint`.
 *
 * `start()` configures logging and the registered extensions, loads plugins, fires PRE_START,
 * starts every service concurrently and resolves once each `start()` resolved or set its
 * `startEvent`, then fires POST_START. If one start fails, the services already started are
 * stopped and `start()` rejects with the original error. A started entrypoint keeps the
 * process alive until it stops; SIGINT/SIGTERM stop it. `stop()` fires PRE_STOP, calls every
 * `stop()` concurrently (all-settled: one that throws or hangs does not skip the others),
 * aborts each service's signal, waits for the running `start()`s, fires POST_STOP and logs a
 * shutdown report. A stop longer than `shutdownTimeout` is cut; on a signal (or a second
 * signal) the process exits with code 70, naming the services that did not stop.
 *
 * @example
 * ```ts
 * await using ep = await entrypoint({ services: [new Api(), new Db()] }).start();
 * await ep.closing(); // until SIGINT/SIGTERM
 * ```
 */
export class Entrypoint implements AsyncDisposable {
  /** Fired before services start, for every entrypoint; receivers get `{ entrypoint, services }`. */
  static readonly PRE_START = classSignals.PRE_START;
  /** Fired after services started. */
  static readonly POST_START = classSignals.POST_START;
  /** Fired before services stop. */
  static readonly PRE_STOP = classSignals.PRE_STOP;
  /** Fired after services stopped. */
  static readonly POST_STOP = classSignals.POST_STOP;

  /** This entrypoint's own PRE_START receivers, called after the class-level ones. */
  readonly preStart = new Signal<EntrypointSignalPayload>();
  /** This entrypoint's own POST_START receivers. */
  readonly postStart = new Signal<EntrypointSignalPayload>();
  /** This entrypoint's own PRE_STOP receivers. */
  readonly preStop = new Signal<EntrypointSignalPayload>();
  /** This entrypoint's own POST_STOP receivers. */
  readonly postStop = new Signal<EntrypointSignalPayload>();

  /** Options after defaults and `AIOMISC_*` variables. */
  readonly options: Readonly<ResolvedEntrypointOptions>;
  /** Values shared between this entrypoint's services. */
  readonly context = new Context();

  readonly #initialServices: Service<object>[];
  readonly #running = new Map<Service<object>, ServiceRun>();
  readonly #closing = new Event();
  #lastReport: ShutdownReport | undefined;
  #state: EntrypointState = 'idle';
  #stopPromise: Promise<void> | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #extensions: EntrypointExtension[] = [];
  #signalHandlers = new Map<NodeJS.Signals, () => void>();
  #firstSignalAt = 0;

  constructor(options: EntrypointOptions = {}) {
    this.#initialServices = checkServices([...(options.services ?? [])]);
    this.options = Object.freeze(resolveEntrypointOptions(options));
  }

  /**
   * The entrypoint started most recently and not yet stopped.
   * @throws {@link InvalidStateError} when none is running.
   */
  static current(): Entrypoint {
    const top = current.stack.at(-1);
    if (!top) throw new InvalidStateError('no current entrypoint is set');
    return top;
  }

  /** The services running now. */
  get services(): Service<object>[] {
    return [...this.#running.keys()];
  }

  /** The last stop's per-service report: stop time, error, whether it timed out. */
  get shutdownReport(): ServiceStopReport[] {
    return this.#lastReport?.entries() ?? [];
  }

  /** True between a successful `start()` and the beginning of `stop()`. */
  get isRunning(): boolean {
    return this.#state === 'running';
  }

  /**
   * Starts logging, extensions, plugins and every service; resolves to the entrypoint.
   * @throws the original error of the first service that failed to start, after the others stopped.
   */
  async start(): Promise<this> {
    if (this.#state !== 'idle')
      throw new InvalidStateError(`entrypoint cannot start: it is ${this.#state}`);
    this.#state = 'starting';
    current.stack.push(this);
    this.#keepAlive = setInterval(() => {}, 2 ** 30);
    this.#installSignalHandlers();
    try {
      if (this.options.plugins) await loadPlugins();
      await this.#setupExtensions();
      for (const own of [this.preStart, this.postStart, this.preStop, this.postStop]) own.freeze();
      await this.startServices(...this.#initialServices);
      if (this.#stopPromise)
        throw new InvalidStateError('entrypoint was stopped while it was starting');
    } catch (error) {
      await this.#stopPromise?.catch(() => {});
      await this.#release();
      this.#state = 'stopped';
      throw error;
    }
    this.#state = 'running';
    return this;
  }

  /**
   * Starts more services on a running entrypoint (or the initial ones during `start()`),
   * firing PRE_START and POST_START with only these services. If one fails, the others of
   * this call are stopped and the original error is thrown.
   */
  async startServices(...services: Service<object>[]): Promise<void> {
    checkServices(services);
    for (const service of services) {
      if (this.#running.has(service)) {
        throw new InvalidStateError(
          `${serviceName(service)} is already running in this entrypoint`,
        );
      }
    }
    const payload = { entrypoint: this, services };
    await this.#emit(this.preStart, Entrypoint.PRE_START, payload);
    try {
      await this.#startAll(services);
    } catch (error) {
      log.error(
        { err: error },
        `Service failed to start; stopping the ${services.length} started with it`,
      );
      const started = services.filter((service) => this.#isStoppable(service));
      await this.#stopMany(started, error).catch(() => {});
      throw error;
    }
    await this.#emit(this.postStart, Entrypoint.POST_START, payload);
  }

  /**
   * Stops some of the running services, firing PRE_STOP and POST_STOP with only these.
   * Resolves to their stop reports.
   * @throws the first error a `stop()` threw, or {@link ShutdownTimeoutError}, after all settled.
   */
  async stopServices(...services: Service<object>[]): Promise<ServiceStopReport[]> {
    checkServices(services);
    const report = await this.#stopMany(
      services.filter((service) => this.#isStoppable(service)),
      undefined,
    );
    return report.entries();
  }

  /**
   * Stops every service, then the extensions (log flush, pool close); idempotent: a second
   * call returns the same promise. `error` reaches every service's `stop()`.
   * @throws the first error a `stop()` threw, or {@link ShutdownTimeoutError}.
   */
  stop(error?: unknown): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    if (this.#state === 'idle' || this.#state === 'stopped') return Promise.resolve();
    this.#state = 'stopping';
    this.#closing.set();
    this.#stopPromise = (async () => {
      try {
        await this.#stopMany(
          this.services.filter((service) => this.#isStoppable(service)),
          error,
        );
      } finally {
        await this.#release();
        this.#state = 'stopped';
      }
    })();
    return this.#stopPromise;
  }

  /** Resolves when the stop begins (a signal, `stop()`, or the end of `run()`'s main). */
  closing(): Promise<void> {
    return this.#closing.wait();
  }

  /** `await using` support: stops the entrypoint. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Running and not already being stopped by a concurrent call. */
  #isStoppable(service: Service<object>): boolean {
    const run = this.#running.get(service);
    return run !== undefined && !run.stopping;
  }

  #startAll(services: Service<object>[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const batch = new StartBatch(services.length, resolve, reject);
      for (const service of services) {
        const run = new ServiceRun(service, this);
        this.#running.set(service, run);
        run.start(batch);
      }
    });
  }

  async #stopMany(services: Service<object>[], error: unknown): Promise<ShutdownReport> {
    const payload = { entrypoint: this, services };
    await this.#emit(this.preStop, Entrypoint.PRE_STOP, payload);
    let batch: StopBatch | undefined;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await new Promise<boolean>((resolve) => {
      batch = new StopBatch(services.length, () => resolve(false));
      if (services.length > 0)
        timer = setTimeout(() => resolve(true), this.options.shutdownTimeout);
      for (let index = 0; index < services.length; index++) {
        this.#running.get(services[index]!)!.stop(batch, index, error);
      }
    });
    clearTimeout(timer);
    for (const service of services) this.#running.delete(service);
    const { durations, errors, t0 } = batch!;
    const report = new ShutdownReport(
      services,
      durations.slice(),
      new Map(errors),
      performance.now() - t0,
    );
    this.#lastReport = report;
    report.log(log, this.options.shutdownTimeout, this.options.debug);
    await this.#emit(this.postStop, Entrypoint.POST_STOP, payload);
    if (timedOut) throw new ShutdownTimeoutError(this.options.shutdownTimeout, report.timedOut());
    if (errors.size > 0) throw errors.values().next().value;
    return report;
  }

  async #setupExtensions(): Promise<void> {
    const extensions = getExtensions();
    const { options } = this;
    if (options.logConfig) {
      configureConsoleLogger({ level: options.logLevel, format: options.logFormat });
      for (const extension of extensions) {
        await extension.configureLogging?.({
          level: options.logLevel,
          format: options.logFormat,
          dateFormat: options.logDateFormat,
          buffered: options.logBuffering,
          bufferSize: options.logBufferSize,
          flushInterval: options.logFlushInterval,
          handlers: options.logHandlers,
        });
      }
    }
    for (const extension of extensions) {
      await extension.setup?.(this);
      this.#extensions.push(extension);
    }
  }

  async #emit(
    own: Signal<EntrypointSignalPayload>,
    shared: Signal<EntrypointSignalPayload>,
    payload: EntrypointSignalPayload,
  ): Promise<void> {
    await shared.call(payload);
    await own.call(payload);
  }

  async #release(): Promise<void> {
    for (const extension of this.#extensions.reverse()) {
      try {
        await extension.teardown?.(this);
      } catch (error) {
        log.error({ err: error }, `Extension ${extension.name} failed in teardown`);
      }
    }
    this.#extensions = [];
    this.context.close();
    for (const [signal, handler] of this.#signalHandlers) process.off(signal, handler);
    this.#signalHandlers.clear();
    clearInterval(this.#keepAlive);
    const index = current.stack.lastIndexOf(this);
    if (index !== -1) current.stack.splice(index, 1);
  }

  #installSignalHandlers(): void {
    for (const signal of this.options.catchSignals) {
      const handler = () => this.#onSignal(signal);
      this.#signalHandlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  #onSignal(signal: NodeJS.Signals): void {
    if (this.#stopPromise) {
      const pending = this.services.map(serviceName);
      // Process runners (pnpm, npm, tsx) relay a terminal's Ctrl+C as SIGINT and then SIGTERM
      // within milliseconds: only a signal that comes later, while services are still
      // stopping, is a deliberate second signal.
      if (
        performance.now() - this.#firstSignalAt < SECOND_SIGNAL_GRACE_MS ||
        pending.length === 0
      ) {
        log.info(`${signal} received while shutting down; still stopping`);
        return;
      }
      log.error(
        `Second ${signal} received; exiting with code 70. Services not stopped: ${pending.join(', ')}`,
      );
      process.exit(70);
    }
    this.#firstSignalAt = performance.now();
    log.info(`Interrupt signal ${signal} received, shutting down...`);
    this.stop(new InterruptSignalError(signal)).then(
      () => undefined,
      (error: unknown) => {
        if (ShutdownTimeoutError.isInstance(error)) {
          log.error(`${error.message}; exiting with code 70`);
          process.exit(70);
        }
        log.error({ err: error }, 'Graceful shutdown failed');
        process.exitCode = 1;
      },
    );
  }
}

function checkServices(services: unknown[]): Service<object>[] {
  for (const [index, service] of services.entries()) {
    if (!Service.isInstance(service)) {
      throw new InvalidArgumentError(`services[${index}]`, service, 'an instance of Service');
    }
  }
  return services as Service<object>[];
}

/**
 * Creates an {@link Entrypoint}; the seed's `entrypoint(*services, **options)`.
 *
 * @example
 * ```ts
 * const ep = entrypoint({ services: [new Worker()], shutdownTimeout: 10_000 });
 * await ep.start();
 * await ep.closing();
 * await ep.stop();
 * ```
 */
export function entrypoint(options: EntrypointOptions = {}): Entrypoint {
  return new Entrypoint(options);
}
