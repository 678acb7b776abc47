import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

import { setLoggerFactory, type Logger } from '@aiomisc/core';

/** Open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Polls `check` until it is true (or throws after `timeoutMs`). */
export async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until the fd count is back to `baseline` (closes finish asynchronously). */
export async function expectFdsBackTo(baseline: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (fdCount() > baseline) {
    if (Date.now() > deadline) {
      throw new Error(`fd count ${fdCount()} did not return to ${baseline}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A connected client socket (errors are swallowed: tests look at what they expect). */
export function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Writes `data` and resolves with the first `length` bytes read back. */
export function roundTrip(socket: Socket, data: string | Buffer, length?: number): Promise<Buffer> {
  const expected = length ?? Buffer.byteLength(data);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= expected) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(Buffer.concat(chunks));
      }
    };
    const onClose = () => reject(new Error(`closed after ${got} of ${expected} bytes`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(data);
  });
}

/** Resolves when the socket closes. */
export function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.closed) resolve();
    else socket.once('close', () => resolve());
  });
}

/** Records log lines while installed; `restore()` puts the previous logger factory back. */
export function recordLogs(): {
  lines: { level: string; message: string; error?: unknown }[];
  restore: () => void;
} {
  const lines: { level: string; message: string; error?: unknown }[] = [];
  const make = (level: string) => (first: string | object, second?: string) => {
    if (typeof first === 'string') lines.push({ level, message: first });
    else lines.push({ level, message: second ?? '', error: (first as { err?: unknown }).err });
  };
  const logger: Logger = {
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
  };
  const restore = setLoggerFactory(() => logger);
  return { lines, restore };
}
