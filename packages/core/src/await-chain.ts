/**
 * Tells whether the code running now is part of a given async operation, from V8's async stack
 * trace: the operation's promise is awaited by a function with a unique name, and that name
 * shows up among the async frames of the current stack exactly when the current code is
 * (transitively) awaited by the operation. This is the question a `stop()` that waits for a
 * run has to ask ("would waiting for the run wait for myself?"), answered without
 * AsyncLocalStorage, whose promise hooks make every promise of the process slower on Node 20.
 * The check costs a stack capture, so it belongs on rare paths such as `stop()`.
 * @internal
 */
export class AwaitChain {
  readonly #marker: string;
  readonly #await: (
    operation: PromiseLike<unknown>,
    onSettled: (failed: boolean, value: unknown) => void,
  ) => Promise<void>;

  /** `label` only helps a reader of a stack trace; each instance gets a unique marker. */
  constructor(label: string) {
    const marker = `[aiomisc ${label} #${++count}]`;
    this.#marker = marker;
    const awaitOperation = async (
      operation: PromiseLike<unknown>,
      onSettled: (failed: boolean, value: unknown) => void,
    ): Promise<void> => {
      let value: unknown;
      try {
        value = await operation;
      } catch (error) {
        onSettled(true, error);
        return;
      }
      onSettled(false, value);
    };
    // V8 names a stack frame after the function's `name` property.
    Object.defineProperty(awaitOperation, 'name', { value: marker });
    this.#await = awaitOperation;
  }

  /**
   * Awaits `operation` under this chain's marker, then calls `onSettled(failed, valueOrError)`
   * (one async frame per operation, no further promise).
   */
  track(
    operation: PromiseLike<unknown>,
    onSettled: (failed: boolean, value: unknown) => void,
  ): void {
    void this.#await(operation, onSettled);
  }

  /** True when the calling code is awaited, directly or not, by an operation passed to `track`. */
  includesCaller(): boolean {
    // Structured call sites, whatever a source-map hook does to the text of stacks.
    const { prepareStackTrace, stackTraceLimit } = Object.getOwnPropertyDescriptors(Error);
    Error.prepareStackTrace = (_, sites) => sites;
    Error.stackTraceLimit = Infinity;
    try {
      const holder: { stack?: NodeJS.CallSite[] } = {};
      Error.captureStackTrace(holder);
      return (holder.stack ?? []).some((site) => site.getFunctionName() === this.#marker);
    } finally {
      restore('prepareStackTrace', prepareStackTrace);
      restore('stackTraceLimit', stackTraceLimit);
    }
  }
}

let count = 0;

function restore(key: 'prepareStackTrace' | 'stackTraceLimit', before?: PropertyDescriptor): void {
  if (before) Object.defineProperty(Error, key, before);
  else Reflect.deleteProperty(Error, key);
}
