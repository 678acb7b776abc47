// The shared memory through which the main thread learns what the transport worker has written,
// so that it can wait for the destination at exit while its own event loop is blocked (pino's and
// thread-stream's exit path gives up after about ten seconds). Import-free: the worker uses it.

/** Int32 cells of the control buffer. @internal */
export const Cell = {
  /** 1 once the worker built its destination. */
  started: 0,
  /** Drain markers the worker has handled: incremented, in order, once everything before one is written. */
  drained: 1,
  /** Incremented on every write the destination accepted (any number of bytes). */
  progress: 2,
  /** Lines (records; a record of a human format can span several) the destination has not taken yet. */
  pending: 3,
  /** 1 once the worker thread is exiting (it can no longer write anything). */
  dead: 4,
  /** Lines dropped so far because the destination failed. */
  dropped: 5,
} as const;

const cells = 8;

/** A new control buffer (passed to the worker in its options). @internal */
export function createControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(cells * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * The line the main thread writes to ask the worker to write everything it holds and then bump
 * `Cell.drained`. pino's lines are JSON objects, so a line that starts with NUL never collides.
 * @internal
 */
export const DRAIN_MARKER = '\u0000aiomisc-log-drain\n';

/** What {@link waitForDrain} saw. @internal */
export interface DrainResult {
  /** True when the worker wrote everything; false when the wait gave up. */
  drained: boolean;
  /** Lines the worker still held when the wait gave up (0 when drained). */
  pending: number;
  /** Why the wait gave up. */
  reason?: 'stalled' | 'dead';
}

/**
 * Blocks until `Cell.drained` reaches `target` (the worker has written everything up to the
 * `target`-th drain marker). Gives up when the worker dies or the destination has accepted
 * nothing for `stallTimeout` ms (it waits as long as data keeps going out, however long that
 * takes). Synchronous: it is what runs in the `exit` hook.
 * @internal
 */
export function waitForDrain(
  control: Int32Array,
  target: number,
  stallTimeout: number,
): DrainResult {
  let progress = Atomics.load(control, Cell.progress);
  let idleSince = Date.now();
  for (;;) {
    const drained = Atomics.load(control, Cell.drained);
    if (drained >= target) return { drained: true, pending: 0 };
    if (Atomics.load(control, Cell.dead) === 1)
      return { drained: false, pending: Atomics.load(control, Cell.pending), reason: 'dead' };
    const now = Date.now();
    const current = Atomics.load(control, Cell.progress);
    if (current !== progress) {
      progress = current;
      idleSince = now;
    } else if (now - idleSince >= stallTimeout) {
      return { drained: false, pending: Atomics.load(control, Cell.pending), reason: 'stalled' };
    }
    Atomics.wait(
      control,
      Cell.drained,
      drained,
      Math.min(50, Math.max(1, stallTimeout - (now - idleSince))),
    );
  }
}
