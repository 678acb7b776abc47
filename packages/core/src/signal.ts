import { expectFunction } from './validate';
import { InvalidStateError } from './errors/invalid-state-error';

/** A receiver of a {@link Signal}: sync or async, it gets the signal's payload. */
export type Receiver<TPayload> = (payload: TPayload) => unknown;

/**
 * A list of receivers called one after another with a payload, in the order they connected.
 * The entrypoint's PRE_START, POST_START, PRE_STOP and POST_STOP are signals; a frozen signal
 * refuses new receivers. An error from a receiver stops the rest and propagates.
 *
 * @example
 * ```ts
 * const ready = new Signal<{ port: number }>();
 * ready.connect(({ port }) => console.log('listening on', port));
 * await ready.call({ port: 8080 });
 * ```
 */
export class Signal<TPayload> {
  readonly #receivers: Set<Receiver<TPayload>>;
  #frozen = false;

  constructor(receivers: Iterable<Receiver<TPayload>> = []) {
    this.#receivers = new Set(receivers);
  }

  /** True once {@link Signal.freeze} was called. */
  get isFrozen(): boolean {
    return this.#frozen;
  }

  /** The number of connected receivers. */
  get size(): number {
    return this.#receivers.size;
  }

  /**
   * Adds a receiver; connecting the same function twice keeps one.
   * @throws {@link InvalidStateError} when the signal is frozen.
   */
  connect(receiver: Receiver<TPayload>): void {
    expectFunction('receiver', receiver);
    if (this.#frozen) throw new InvalidStateError('cannot connect a receiver to a frozen signal');
    this.#receivers.add(receiver);
  }

  /**
   * Removes a receiver.
   * @throws {@link InvalidStateError} when the signal is frozen.
   */
  disconnect(receiver: Receiver<TPayload>): void {
    if (this.#frozen)
      throw new InvalidStateError('cannot disconnect a receiver from a frozen signal');
    this.#receivers.delete(receiver);
  }

  /** Calls every receiver in turn, awaiting each. */
  async call(payload: TPayload): Promise<void> {
    for (const receiver of this.#receivers) await receiver(payload);
  }

  /** An unfrozen copy with the same receivers. */
  copy(): Signal<TPayload> {
    return new Signal(this.#receivers);
  }

  /** Refuses further `connect`/`disconnect`. Returns the signal. */
  freeze(): this {
    this.#frozen = true;
    return this;
  }
}

/**
 * Connects the decorated function to `signal` and returns it unchanged: the seed's `@receiver`.
 *
 * @example
 * ```ts
 * const onStart = receiver(Entrypoint.PRE_START)(async ({ entrypoint, services }) => {
 *   console.log('starting', services.length, 'services');
 * });
 * ```
 */
export function receiver<TPayload>(
  signal: Signal<TPayload>,
): <TFunction extends Receiver<TPayload>>(fn: TFunction) => TFunction {
  return (fn) => {
    signal.connect(fn);
    return fn;
  };
}
