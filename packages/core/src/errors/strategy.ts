import { expectNumber } from '../validate';
import { AiomiscError, isMarked } from './aiomisc-error';

const skipMarker = Symbol.for('aiomisc.error.StrategySkip');
const stopMarker = Symbol.for('aiomisc.error.StrategyStop');

/**
 * Thrown by a {@link RecurringCallback} strategy to skip one run and ask again after `delayMs`
 * (any length, `Infinity` to wait until `stop()`).
 * @throws {@link InvalidArgumentError} when `delayMs` is not a number >= 0.
 *
 * @example
 * ```ts
 * callback.start(() => {
 *   if (!isLeader()) throw new StrategySkip(1000);
 *   return 5000;
 * });
 * ```
 */
export class StrategySkip extends AiomiscError {
  private readonly [skipMarker] = true;
  /** How long to wait before asking the strategy again, in milliseconds. */
  readonly delayMs: number;

  constructor(delayMs: number) {
    expectNumber('delayMs', delayMs, { min: 0, allowInfinity: true });
    super(`Recurring callback run skipped for ${delayMs} ms`);
    this.name = 'StrategySkip';
    this.delayMs = delayMs;
  }

  static override isInstance(error: unknown): error is StrategySkip {
    return isMarked(error, skipMarker);
  }
}

/**
 * Thrown by a {@link RecurringCallback} strategy to end the recurring loop normally.
 *
 * @example
 * ```ts
 * let runs = 0;
 * callback.start(() => {
 *   if (++runs > 3) throw new StrategyStop();
 *   return 100;
 * });
 * ```
 */
export class StrategyStop extends AiomiscError {
  private readonly [stopMarker] = true;

  constructor() {
    super('Recurring callback stopped by its strategy');
    this.name = 'StrategyStop';
  }

  static override isInstance(error: unknown): error is StrategyStop {
    return isMarked(error, stopMarker);
  }
}
