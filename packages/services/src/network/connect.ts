import type { Socket } from 'node:net';

import { setLongTimeout } from '@aiomisc/core';
import { TimeoutError } from '@aiomisc/resilience';

/**
 * Waits for a socket made by `create` to reach `readyEvent` (`connect`, or `secureConnect` for
 * TLS); the socket is destroyed on an error, on `timeoutMs` (a {@link TimeoutError}) or when
 * `signal` aborts (rejects with its reason).
 * @internal
 */
export function connectSocket<TSocket extends Socket>(
  create: () => TSocket,
  readyEvent: 'connect' | 'secureConnect',
  limits: { timeoutMs: number; signal: AbortSignal },
): Promise<TSocket> {
  const { timeoutMs, signal } = limits;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<TSocket>((resolve, reject) => {
    const socket = create();
    const cleanup = () => {
      timer.clear();
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
    };
    const onError = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onAbort = () => onError(signal.reason as Error);
    const onReady = () => {
      cleanup();
      resolve(socket);
    };
    const timer = setLongTimeout(
      () => onError(new TimeoutError(timeoutMs, `connecting timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once(readyEvent, onReady);
  });
}
