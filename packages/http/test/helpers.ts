import { connect, type Socket } from 'node:net';

import type { AddressInfo } from 'node:net';

/** http://127.0.0.1:port/path of a started service. */
export function urlOf(service: { address(): AddressInfo }, path = '/'): string {
  return `http://127.0.0.1:${service.address().port}${path}`;
}

/** Resolves to the error code of a TCP connect to 127.0.0.1:port, or 'connected'. */
export function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

/** A raw TCP connection with the bytes it received so far. */
export interface RawClient {
  socket: Socket;
  received(): string;
  /** Resolves when `text` has been received. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ended or reset the connection. */
  ended: Promise<void>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let data = '';
  const waiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    for (const waiter of waiters) waiter();
  });
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    received: () => data,
    ended,
    waitFor(text, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!data.includes(text)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`did not receive ${JSON.stringify(text)}; got ${JSON.stringify(data)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
