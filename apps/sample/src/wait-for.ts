import type { Service } from '@aiomisc/core';

/**
 * `service.context.get(key)`, given up when the service's signal aborts: a stop that comes
 * while this service still waits for another one (which may never start) ends the wait at once,
 * with the signal's reason.
 */
export function waitFor<T>(service: Service<object>, key: string): Promise<T> {
  const { signal } = service;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    service.context.get<T>(key).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
