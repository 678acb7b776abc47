import type { Context } from './context';
import type { Entrypoint } from './entrypoint';
import { AsyncRequiredError } from './errors/async-required-error';
import { InvalidStateError } from './errors/invalid-state-error';
import { RequiredOptionsError } from './errors/required-options-error';
import { Event } from './event';
import type { ServiceRun } from './service-run';

const serviceMarker = Symbol.for('aiomisc.service');
/** @internal the entrypoint's handle to prepare a service for a start. */
export const attachService = Symbol.for('aiomisc.service.attach');

const validatedClasses = new WeakSet<object>();

/** The static side of a {@link Service} class, as the base constructor reads it. */
export interface ServiceClass {
  readonly name: string;
  readonly required: readonly string[];
  readonly asyncRequired: readonly string[];
  readonly defaults: object;
}

type OptionsArgument<TOptions> =
  Partial<TOptions> extends TOptions ? [options?: TOptions] : [options: TOptions];

/**
 * A unit of a long-running program that the {@link Entrypoint} starts and stops.
 *
 * Implement `start()`; override `stop(error)` to release what it holds. A `start()` that runs
 * forever (a consumer loop) calls `this.startEvent.set()` once ready and watches `this.signal`,
 * which the entrypoint aborts at stop. Options live in `this.options`, merged over the
 * `static defaults` of the class and its bases; `static required` lists options that must be
 * given and `static asyncRequired` methods that must be `async` (checked at construction).
 *
 * @example
 * ```ts
 * class Ticker extends Service<{ intervalMs?: number }> {
 *   static override defaults = { intervalMs: 1000 };
 *   async start() {
 *     this.startEvent.set();
 *     while (!this.signal.aborted) {
 *       await sleep(this.options.intervalMs!, { signal: this.signal }).catch(() => {});
 *       console.log('tick');
 *     }
 *   }
 * }
 * ```
 */
export abstract class Service<TOptions extends object = Record<string, unknown>> {
  /** Options that must be present (after defaults) or construction throws {@link RequiredOptionsError}. */
  static required: readonly string[] = [];
  /** Methods that must be `async` functions or construction throws {@link AsyncRequiredError}. */
  static asyncRequired: readonly string[] = ['start', 'stop'];
  /** Option defaults; a subclass's defaults are merged over its base's. */
  static defaults: object = {};

  private readonly [serviceMarker] = true;
  /** The options given to the constructor, merged over the class defaults. */
  readonly options: Readonly<TOptions>;
  // The state of the current run lives in one ServiceRun object (plain fields, cheap to
  // create); the Event and AbortController are made only when the service reads them.
  #run: ServiceRun | undefined;
  #idle: { event?: Event; controller?: AbortController } | undefined;

  constructor(...[options]: OptionsArgument<TOptions>) {
    const serviceClass = new.target as unknown as ServiceClass;
    this.options = Object.freeze({ ...collectDefaults(serviceClass), ...options }) as TOptions;
    validateClass(serviceClass, this);
    const missing = serviceClass.required.filter(
      (key) => (this.options as Record<string, unknown>)[key] === undefined,
    );
    if (missing.length > 0) throw new RequiredOptionsError(serviceClass.name, missing);
  }

  /** Starts the service; the entrypoint awaits it, or `startEvent` for one that runs forever. */
  abstract start(): Promise<void>;

  /**
   * Releases what the service holds. Called once at stop with the error that ended the
   * entrypoint, if any; `this.signal` is aborted right after it is called.
   */
  async stop(_error?: unknown): Promise<void> {}

  /** Set it once ready when `start()` keeps running; the entrypoint goes on when it is set. */
  get startEvent(): Event {
    if (this.#run) return this.#run.startEvent();
    const idle = (this.#idle ??= {});
    return (idle.event ??= new Event());
  }

  /** Aborted when the entrypoint stops this service (after `stop()` is called). */
  get signal(): AbortSignal {
    if (this.#run) return this.#run.signal();
    const idle = (this.#idle ??= {});
    return (idle.controller ??= new AbortController()).signal;
  }

  /** The entrypoint that started this service, if any. */
  get entrypoint(): Entrypoint | undefined {
    return this.#run?.entrypoint;
  }

  /**
   * The {@link Context} of the entrypoint that runs this service.
   * @throws {@link InvalidStateError} before an entrypoint started the service.
   */
  get context(): Context {
    if (!this.#run) {
      throw new InvalidStateError(
        `${this.constructor.name} has no context: no entrypoint started it`,
      );
    }
    return this.#run.entrypoint.context;
  }

  /** @internal a (re)start by an entrypoint: fresh start event and abort signal. */
  [attachService](run: ServiceRun): void {
    this.#run = run;
  }

  /** True when `value` is a {@link Service} from any copy of `@aiomisc/core`. */
  static isInstance(value: unknown): value is Service<object> {
    return typeof value === 'object' && value !== null && serviceMarker in value;
  }
}

function collectDefaults(serviceClass: ServiceClass): object {
  const chain: object[] = [];
  for (
    let current: unknown = serviceClass;
    typeof current === 'function';
    current = Object.getPrototypeOf(current)
  ) {
    if (Object.hasOwn(current, 'defaults'))
      chain.unshift((current as unknown as ServiceClass).defaults);
  }
  return Object.assign({}, ...chain) as object;
}

function validateClass(serviceClass: ServiceClass, instance: object): void {
  if (validatedClasses.has(serviceClass)) return;
  const notAsync = serviceClass.asyncRequired.filter((method) => {
    const fn = (instance as Record<string, unknown>)[method];
    return typeof fn !== 'function' || fn.constructor.name !== 'AsyncFunction';
  });
  if (notAsync.length > 0) throw new AsyncRequiredError(serviceClass.name, notAsync);
  validatedClasses.add(serviceClass);
}
