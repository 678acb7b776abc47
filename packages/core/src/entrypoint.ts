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
import { ShutdownBudget } from './shutdown-budget';
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
 * `startEvent`, then fires POST_START. If one start (or a POST_START receiver) fails, the
 * services already started are stopped and `start()` rejects with the original error. A
 * started entrypoint keeps the process alive until it stops; SIGINT/SIGTERM stop it, in any
 * phase: a stop that begins while the entrypoint is starting lets nothing more start, stops
 * what started (a start in progress once it settles) and `start()` then resolves.
 * `stop()` fires PRE_STOP, calls every `stop()` concurrently (all-settled: one that throws or
 * hangs, or a receiver that throws, does not skip the others), aborts each service's signal,
 * waits for the running `start()`s, fires POST_STOP, logs a shutdown report and runs the
 * extensions' teardown. `shutdownTimeout` bounds all of it; on a signal, a stop past it (or a
 * second signal) exits the process with code 70, naming what did not finish.
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
  #setupDone: Promise<void> = Promise.resolve();
  #stopPromise: Promise<void> | undefined;
  /** What a stop is waiting for besides services (a receiver, an extension), for reports. */
  #phase: string | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #extensions: EntrypointExtension[] = [];
  #signalHandlers = new Map<NodeJS.Signals, () => void>();
  #firstSignalAt = 0;

  constructor(options: EntrypointOptions = {}) {
    this.#initialServices = checkServices(options.services);
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
   * When a stop (a signal, `stop()`) begins before the start finished, nothing more starts,
   * and this resolves once that stop has ended (`isRunning` is then false).
   * @throws the original error of the first service (or POST_START receiver) that failed,
   * after the services started with it stopped.
   */
  async start(): Promise<this> {
    if (this.#state !== 'idle')
      throw new InvalidStateError(`entrypoint cannot start: it is ${this.#state}`);
    this.#state = 'starting';
    current.stack.push(this);
    this.#keepAlive = setInterval(() => {}, 2 ** 30);
    this.#installSignalHandlers();
    try {
      const setup = this.#setup();
      this.#setupDone = setup.then(noop, noop);
      await setup;
      if (!this.#stopPromise) {
        // A stop that begins meanwhile ends the wait: what started is the stop's to stop.
        await Promise.race([this.startServices(...this.#initialServices), this.#closing.wait()]);
      }
    } catch (error) {
      if (!this.#stopPromise) {
        await this.#abandon();
        throw error;
      }
    }
    if (this.#stopPromise) {
      await this.#stopPromise.catch(noop);
      return this;
    }
    this.#state = 'running';
    return this;
  }

  /**
   * Starts more services on a running entrypoint (or the initial ones during `start()`),
   * firing PRE_START and POST_START with only these services. If one fails, or a POST_START
   * receiver throws, the services of this call are stopped and the original error is thrown.
   * @throws {@link InvalidStateError} when a service is already running, or the entrypoint
   * began to stop (before or during PRE_START): then none of them is started.
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
    this.#refuseWhenStopping(services);
    const payload = { entrypoint: this, services };
    await this.#emit(this.preStart, Entrypoint.PRE_START, payload);
    this.#refuseWhenStopping(services);
    try {
      await this.#startAll(services);
      await this.#emit(this.postStart, Entrypoint.POST_START, payload);
    } catch (error) {
      const started = services.filter((service) => this.#isStoppable(service));
      if (!this.#stopPromise) {
        log.error(
          { err: error },
          `Start failed; stopping the ${started.length} services started with it`,
        );
      }
      if (started.length > 0) await this.#stopWithin(started, error).catch(noop);
      throw error;
    }
  }

  /**
   * Stops some of the running services, firing PRE_STOP and POST_STOP with only these.
   * Resolves to their stop reports.
   * @throws the first error a `stop()` (or else a receiver) threw, or
   * {@link ShutdownTimeoutError}, after all settled.
   */
  async stopServices(...services: Service<object>[]): Promise<ServiceStopReport[]> {
    checkServices(services);
    const report = await this.#stopWithin(
      services.filter((service) => this.#isStoppable(service)),
      undefined,
    );
    return report.entries();
  }

  /**
   * Stops every service, then the extensions (log flush, pool close), all within
   * `shutdownTimeout`; idempotent: a second call returns the same promise. `error` reaches
   * every service's `stop()`. Called while starting, it stops what started and lets nothing
   * more start.
   * @throws the first error a `stop()` (or else a receiver) threw, or
   * {@link ShutdownTimeoutError} naming what had not finished when the time ran out.
   */
  stop(error?: unknown): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    if (this.#state === 'idle' || this.#state === 'stopped') return Promise.resolve();
    this.#state = 'stopping';
    this.#closing.set();
    const budget = this.#budget();
    const shutdown = this.#shutdown(error, budget);
    this.#stopPromise = (async () => {
      try {
        if (!(await budget.within(shutdown))) {
          throw new ShutdownTimeoutError(budget.ms, budget.pending);
        }
        await shutdown;
      } finally {
        budget.clear();
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

  #refuseWhenStopping(services: Service<object>[]): void {
    if (this.#stopPromise) {
      throw new InvalidStateError(
        `entrypoint is stopping; not started: ${services.map(serviceName).join(', ') || '(none)'}`,
      );
    }
  }

  #budget(): ShutdownBudget {
    return new ShutdownBudget(this.options.shutdownTimeout, () => this.#pending());
  }

  /** What a stop in progress still waits for: unfinished services, then the phase. */
  #pending(): string[] {
    const pending: string[] = [];
    for (const run of this.#running.values()) {
      if (run.stopping && !run.finished) pending.push(serviceName(run.service));
    }
    if (this.#phase) pending.push(this.#phase);
    return pending;
  }

  async #setup(): Promise<void> {
    if (this.options.plugins) await loadPlugins();
    if (!this.#stopPromise) await this.#setupExtensions();
    for (const own of [this.preStart, this.postStart, this.preStop, this.postStop]) own.freeze();
  }

  async #shutdown(error: unknown, budget: ShutdownBudget): Promise<void> {
    this.#phase = 'the start in progress (plugins, extension setup)';
    await budget.within(this.#setupDone);
    this.#phase = undefined;
    let failure: { error: unknown } | undefined;
    try {
      await this.#stopMany(
        this.services.filter((service) => this.#isStoppable(service)),
        error,
        budget,
      );
    } catch (stopError) {
      failure = { error: stopError };
    }
    await this.#release(budget);
    this.#state = 'stopped';
    if (failure) throw failure.error;
  }

  /** After a failed start: tears down what the start set up; `stop()` now returns this. */
  async #abandon(): Promise<void> {
    this.#state = 'stopping';
    this.#closing.set();
    const budget = this.#budget();
    this.#stopPromise = this.#release(budget).finally(() => {
      budget.clear();
      this.#state = 'stopped';
    });
    await this.#stopPromise;
  }

  /** Stops some services within a budget of their own. */
  async #stopWithin(services: Service<object>[], error: unknown): Promise<ShutdownReport> {
    const budget = this.#budget();
    try {
      return await this.#stopMany(services, error, budget);
    } finally {
      budget.clear();
    }
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

  async #stopMany(
    services: Service<object>[],
    error: unknown,
    budget: ShutdownBudget,
  ): Promise<ShutdownReport> {
    const payload = { entrypoint: this, services };
    const receiverErrors: unknown[] = [];
    await this.#fire('PRE_STOP', payload, budget, receiverErrors);
    let batch: StopBatch | undefined;
    const settled = new Promise<void>((resolve) => {
      batch = new StopBatch(services.length, resolve);
      for (let index = 0; index < services.length; index++) {
        this.#running.get(services[index]!)!.stop(batch, index, error);
      }
    });
    const inTime = await budget.within(settled);
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
    await this.#fire('POST_STOP', payload, budget, receiverErrors);
    if (!inTime) throw new ShutdownTimeoutError(budget.ms, report.timedOut());
    if (errors.size > 0) throw errors.values().next().value;
    if (receiverErrors.length > 0) throw receiverErrors[0];
    return report;
  }

  /** Fires a stop signal within the budget; a receiver's error is logged and collected. */
  async #fire(
    which: 'PRE_STOP' | 'POST_STOP',
    payload: EntrypointSignalPayload,
    budget: ShutdownBudget,
    errors: unknown[],
  ): Promise<void> {
    const call =
      which === 'PRE_STOP'
        ? this.#emit(this.preStop, Entrypoint.PRE_STOP, payload)
        : this.#emit(this.postStop, Entrypoint.POST_STOP, payload);
    this.#phase = `${which} receivers`;
    try {
      if (await budget.within(call)) await call;
    } catch (error) {
      log.error({ err: error }, `A ${which} receiver failed; stopping goes on`);
      errors.push(error);
    } finally {
      this.#phase = undefined;
    }
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
      if (this.#stopPromise) return;
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

  /** Tears the extensions down (each within the budget), then lets the process go. */
  async #release(budget: ShutdownBudget): Promise<void> {
    for (const extension of this.#extensions.reverse()) {
      this.#phase = `extension "${extension.name}" teardown`;
      try {
        const teardown = Promise.resolve().then(() => extension.teardown?.(this));
        if (await budget.within(teardown)) await teardown;
      } catch (error) {
        log.error({ err: error }, `Extension ${extension.name} failed in teardown`);
      }
    }
    this.#phase = undefined;
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
    if (this.#stopPromise && this.#firstSignalAt === 0) {
      // The stop was not begun by a signal (stop(), the end of run()'s main): this one asks for
      // what is already happening; the next one forces.
      this.#firstSignalAt = performance.now();
      log.info(`${signal} received while stopping; still stopping`);
      return;
    }
    if (this.#stopPromise) {
      // Process runners (pnpm, npm, tsx) relay a terminal's Ctrl+C as SIGINT and then SIGTERM
      // within milliseconds: only a signal that comes later is a deliberate second signal.
      if (performance.now() - this.#firstSignalAt < SECOND_SIGNAL_GRACE_MS) {
        log.info(`${signal} received while shutting down; still stopping`);
        return;
      }
      const pending = this.#pending();
      log.error(
        `Second ${signal} received; exiting with code 70. Still running: ${pending.join(', ') || '(nothing named)'}`,
      );
      process.exit(70);
    }
    this.#firstSignalAt = performance.now();
    log.info(`Interrupt signal ${signal} received, shutting down...`);
    this.stop(new InterruptSignalError(signal)).then(noop, (error: unknown) => {
      if (ShutdownTimeoutError.isInstance(error)) {
        log.error(`${error.message}; exiting with code 70`);
        process.exit(70);
      }
      log.error({ err: error }, 'Graceful shutdown failed');
      process.exitCode = 1;
    });
  }
}

function noop(): void {}

function checkServices(value: unknown): Service<object>[] {
  if (value === undefined) return [];
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function'
  ) {
    throw new InvalidArgumentError('services', value, 'an array (or iterable) of services');
  }
  const services = [...(value as Iterable<unknown>)];
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
