import { expectNumber, setLongTimeout } from '@aiomisc/core';

import { TimeoutError } from './errors/timeout-error';
import type { SignalWrapper } from './wrap';
import { invoke, signalWrapper } from './wrap';

/**
 * Limits how long a function may run. After `ms` the returned promise rejects with a
 * {@link TimeoutError} and the AbortSignal the function received is aborted with that error.
 * `timeout(0)` fails at once without calling the function, as the seed's does; limits of 2^31 ms
 * and more are honoured (Node's own timers would fire them after 1 ms).
 *
 * @param ms - the limit in milliseconds (>= 0)
 * @returns a wrapper: `timeout(ms)(fn)` or `@timeout(ms)` on a method (no signal there)
 * @throws {@link InvalidArgumentError} when `ms` is negative or not a number
 *
 * @example
 * ```ts
 * const fetchText = timeout(1000)(async (signal, url: string) => {
 *   const response = await fetch(url, { signal });
 *   return response.text();
 * });
 * await fetchText('https://example.com'); // TimeoutError after 1 s
 * ```
 */
export function timeout(ms: number): SignalWrapper {
  expectNumber('ms', ms, { min: 0 });
  return signalWrapper((fn, thisArg, args, passSignal) => {
    if (ms === 0) return Promise.reject(new TimeoutError(0));
    return new Promise((resolve, reject) => {
      // A decorated method gets no signal, so it needs no AbortController (the costly part).
      const controller = passSignal ? new AbortController() : null;
      const timer = setLongTimeout(() => {
        const error = new TimeoutError(ms);
        controller?.abort(error);
        reject(error);
      }, ms);
      invoke(fn, thisArg, args, controller === null ? null : controller.signal).then(
        (value) => {
          timer.clear();
          resolve(value);
        },
        (error: unknown) => {
          timer.clear();
          reject(error);
        },
      );
    });
  });
}
