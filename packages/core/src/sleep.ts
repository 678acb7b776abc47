/**
 * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts,
 * clearing the timer. `ms <= 0` still yields to the event loop once.
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
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    if (!ref) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
