import { setLongTimeout, type LongTimeout } from './long-timeout';

/**
 * The time one stop may take, shared by all of its phases (waiting for a start in progress,
 * the receivers, the services, the extensions' teardown). Armed through `setLongTimeout`, so
 * any duration works; `Infinity` never runs out.
 * @internal
 */
export class ShutdownBudget {
  /** Resolves when the budget runs out (never for `Infinity`). */
  readonly expired: Promise<void>;
  /** What was still running when the budget ran out, taken at that moment. */
  pending: readonly string[] = [];
  #isExpired = false;
  #timer: LongTimeout | undefined;

  /**
   * @param ms the budget; `Infinity` for none.
   * @param pending names what is still running; called once, when the budget runs out.
   */
  constructor(
    readonly ms: number,
    pending: () => readonly string[] = () => [],
  ) {
    this.expired = new Promise<void>((resolve) => {
      if (ms === Infinity) return;
      this.#timer = setLongTimeout(() => {
        this.pending = pending();
        this.#isExpired = true;
        resolve();
      }, ms);
    });
  }

  /** True once the budget ran out. */
  get isExpired(): boolean {
    return this.#isExpired;
  }

  /**
   * Waits for `work` or for the budget to run out, whichever comes first; true when the work
   * settled in time. Its outcome is left to the caller (awaiting `work` rethrows a rejection).
   */
  async within(work: PromiseLike<unknown>): Promise<boolean> {
    // Observed even when the budget is already spent, so a late rejection is never unhandled.
    const done = Promise.resolve(work).then(
      () => true,
      () => true,
    );
    if (this.#isExpired) return false;
    return Promise.race([done, this.expired.then(() => false)]);
  }

  /** Disarms the timer. */
  clear(): void {
    this.#timer?.clear();
  }
}
