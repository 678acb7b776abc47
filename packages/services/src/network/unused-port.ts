import { createSocket } from 'node:dgram';
import { createServer, isIP } from 'node:net';

import { InvalidArgumentError, expectOneOf } from '@aiomisc/core';

/** Options of {@link unusedPort}. */
export interface UnusedPortOptions {
  /** The address the port must be free on. @default '127.0.0.1' */
  address?: string;
  /** TCP or UDP. @default 'tcp' */
  type?: 'tcp' | 'udp';
}

/**
 * A port that was free a moment ago (the seed's `aiomisc_unused_port`): the system picks one
 * for a throwaway socket, which is closed before this resolves. Another process may take it in
 * between; prefer `port: 0` and `server.address()` where you can.
 *
 * @example
 * ```ts
 * const port = await unusedPort();
 * const server = new Echo({ port });
 * ```
 */
export async function unusedPort(options: UnusedPortOptions = {}): Promise<number> {
  const address = options.address ?? '127.0.0.1';
  if (isIP(address) === 0) throw new InvalidArgumentError('address', address, 'an IP address');
  const type = expectOneOf('type', options.type ?? 'tcp', ['tcp', 'udp'] as const);
  if (type === 'udp') {
    const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, address, () => resolve());
      });
      return socket.address().port;
    } finally {
      await new Promise<void>((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve();
        }
      });
    }
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port: 0 }, () => resolve());
  }).catch((error: unknown) => {
    server.close();
    throw error;
  });
  const bound = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!bound || typeof bound !== 'object')
    throw new InvalidArgumentError('address', address, 'a bindable address');
  return bound.port;
}
