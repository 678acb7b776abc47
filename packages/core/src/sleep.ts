import { setLongTimeout } from './long-timeout';

/**
 * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts,
 * clearing the timer. `ms <= 0` still yields to the event loop once; delays beyond 2^31 ms
 * are honoured (see {@link setLongTimeout}).
 *
 * @example
 * ```ts
 * await sleep(1000, { signal: this.signal });
 * ```
 */
export function sleep(
  ms: number,
  options: { signal?: AbortSignal; ref?: boolean } = {},
): Promise<void> {
  const { signal, ref = true } = options;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      timer.clear();
      reject(signal!.reason as Error);
    };
    const timer = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (!ref) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
