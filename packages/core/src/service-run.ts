import { getLogger } from './logger';
import { Event } from './event';
import { InvalidStateError } from './errors/invalid-state-error';
import { attachService, type Service } from './service';
import { serviceName } from './shutdown-report';
import type { Entrypoint } from './entrypoint';

const log = getLogger('aiomisc.entrypoint');
const resolved: PromiseLike<void> = Promise.resolve();

/** Counts the services of one `startServices` call until all are ready or one fails. */
export class StartBatch {
  remaining: number;
  failed = false;

  constructor(
    count: number,
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
  ) {
    this.remaining = count;
    if (count === 0) resolve();
  }
}

/** Collects the stop times and errors of one stop call until every service settled. */
export class StopBatch {
  remaining: number;
  readonly t0 = performance.now();
  readonly durations: Float64Array;
  readonly errors = new Map<number, unknown>();

  constructor(
    count: number,
    readonly resolve: () => void,
  ) {
    this.remaining = count;
    this.durations = new Float64Array(count).fill(-1);
    if (count === 0) resolve();
  }
}

/**
 * One service's run inside an entrypoint: its start promise and readiness, then its stop.
 * Handlers are created once per run, and no promise, race or AbortController is made per
 * service, so that starting thousands of trivial services costs little more than calling
 * their `start()` and `stop()`.
 * @internal
 */
export class ServiceRun {
  startPromise: PromiseLike<void> = resolved;
  /** The start promise resolved or rejected. */
  settled = false;
  /** The start resolved or the service set its start event. */
  ready = false;
  stopping = false;
  /** Both the stop and the start settled. */
  finished = false;
  // Plain private fields, not #fields: this class is on the hot path and V8 11 defines
  // #fields and arrow-function fields more slowly.
  private startBatch: StartBatch | undefined;
  private stopBatch: StopBatch | undefined;
  private stopIndex = 0;
  private startedAt = 0;

  private event: Event | undefined;
  private controller: AbortController | undefined;
  private stopped = false;
  private stopError: unknown;

  constructor(
    readonly service: Service<object>,
    readonly entrypoint: Entrypoint,
  ) {
    service[attachService](this);
  }

  /** The service's start event for this run; setting it marks the run ready. */
  startEvent(): Event {
    return (this.event ??= new Event(() => this.markReady()));
  }

  /** The service's signal for this run, aborted (now or when first read) once it stops. */
  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort(this.abortReason());
    }
    return this.controller.signal;
  }

  private abortReason(): unknown {
    return this.stopError ?? new InvalidStateError(`${this.service.constructor.name} is stopping`);
  }

  /** Calls `start()`; the batch learns when the service is ready or failed. */
  start(batch: StartBatch): void {
    this.startBatch = batch;
    if (this.entrypoint.options.debug) this.startedAt = performance.now();
    this.startPromise = callSafely(this.service, 'start');
    this.startPromise.then(
      () => this.onStarted(),
      (error: unknown) => this.onStartFailed(error),
    );
  }

  /** Marks the service ready (its start resolved, or it set its start event). */
  markReady(): void {
    if (this.ready) return;
    this.ready = true;
    if (this.entrypoint.options.debug) {
      const elapsed = performance.now() - this.startedAt;
      log.debug(`${serviceName(this.service)} started in ${elapsed.toFixed(1)} ms`);
    }
    const batch = this.startBatch;
    if (batch && --batch.remaining === 0 && !batch.failed) batch.resolve();
  }

  /** Calls `stop(error)`, aborts the service's signal, then waits for stop and start. */
  stop(batch: StopBatch, index: number, error: unknown): void {
    this.stopping = true;
    this.stopBatch = batch;
    this.stopIndex = index;
    const stopping = callSafely(this.service, 'stop', error);
    this.stopped = true;
    this.stopError = error;
    this.controller?.abort(this.abortReason());
    stopping.then(
      () => this.onStopped(),
      (stopError: unknown) => this.onStopFailed(stopError),
    );
  }

  private onStarted(): void {
    this.settled = true;
    this.markReady();
  }

  private onStartFailed(error: unknown): void {
    this.settled = true;
    const batch = this.startBatch!;
    if (!this.ready) {
      if (!batch.failed) batch.reject(error);
      batch.failed = true;
    } else if (!this.stopping) {
      log.error({ err: error }, `${this.service.constructor.name} failed after it started`);
    }
  }

  private onStopped(): void {
    if (this.settled) this.finishStop();
    else {
      const finish = () => this.finishStop();
      this.startPromise.then(finish, finish);
    }
  }

  private onStopFailed(error: unknown): void {
    this.stopBatch!.errors.set(this.stopIndex, error);
    this.onStopped();
  }

  private finishStop(): void {
    this.finished = true;
    const batch = this.stopBatch!;
    batch.durations[this.stopIndex] = performance.now() - batch.t0;
    if (--batch.remaining === 0) batch.resolve();
  }
}

/** Calls a lifecycle method, turning a synchronous throw or a non-promise result into a promise. */
function callSafely(
  service: Service<object>,
  method: 'start' | 'stop',
  error?: unknown,
): PromiseLike<void> {
  try {
    const result = method === 'start' ? service.start() : service.stop(error);
    return typeof (result as PromiseLike<void> | undefined)?.then === 'function'
      ? result
      : resolved;
  } catch (thrown) {
    return Promise.reject(thrown);
  }
}
