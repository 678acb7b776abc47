// How the package reports its own failures (the Python's "--- Logging error ---"): one line on
// stderr, written synchronously and never thrown. Kept free of package imports: the transport
// worker uses it too.
import { writeSync } from 'node:fs';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for `ms` milliseconds (Atomics.wait; allowed on the main thread in Node). @internal */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * Writes `@aiomisc/log: <text>` to stderr. Never throws: when stderr is itself the broken
 * destination (a full disk, a closed pipe) the line is lost, as nothing else can be done. A
 * non-blocking stderr pipe that is full is retried for at most about 100 ms.
 * @internal
 */
export function reportProblem(text: string): void {
  const data = Buffer.from(`@aiomisc/log: ${text}\n`);
  let offset = 0;
  for (let attempt = 0; offset < data.length && attempt < 100; attempt++) {
    try {
      offset += writeSync(2, data, offset, data.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      sleepSync(1);
    }
  }
}

/** `error.message` with its code, for a report line. @internal */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
