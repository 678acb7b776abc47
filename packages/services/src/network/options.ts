import { isIP } from 'node:net';

import { InvalidArgumentError, expectNumber } from '@aiomisc/core';
import type { Entrypoint } from '@aiomisc/core';

/** The listener options every server takes. Durations are milliseconds. */
export interface ListenOptions {
  /** The IPv4 or IPv6 address (or host name) to bind. @default '127.0.0.1' */
  address?: string;
  /** The port; 0 picks a free one (see `address()` after start). Required unless `sock` is given. */
  port?: number;
  /** How long stop waits for running handlers before it destroys what is left. @default 5000 */
  gracefulTimeout?: number;
  /** The name of this server's statistic in `getStatistics()`. @default null */
  statisticName?: string | null;
}

/** The bound address of a started server, as Node reports it. */
export interface BoundAddress {
  address: string;
  family: string;
  port: number;
}

/** Validates `address` (a non-empty string), `port` (0..65535) and `gracefulTimeout`. */
export function validateListen(
  options: ListenOptions,
  hasSock: boolean,
): { address: string; port: number; gracefulTimeout: number } {
  const address = options.address ?? '127.0.0.1';
  if (typeof address !== 'string' || address.length === 0) {
    throw new InvalidArgumentError('address', address, 'an IP address or host name');
  }
  if (options.port === undefined && !hasSock) {
    throw new InvalidArgumentError('port', undefined, 'a port (0 for a free one) or a `sock`');
  }
  const port = hasSock
    ? 0
    : expectNumber('port', options.port, { min: 0, max: 65535, integer: true });
  return { address, port, gracefulTimeout: validateGracefulTimeout(options.gracefulTimeout) };
}

export function validateGracefulTimeout(value: number | undefined): number {
  return expectNumber('gracefulTimeout', value ?? 5000, { min: 0, allowInfinity: true });
}

/** Validates a client's `address` and `port` (1..65535). */
export function validateTarget(options: { address?: string; port?: number }): {
  address: string;
  port: number;
} {
  const address = options.address ?? '127.0.0.1';
  if (typeof address !== 'string' || address.length === 0) {
    throw new InvalidArgumentError('address', address, 'an IP address or host name');
  }
  const port = expectNumber('port', options.port, { min: 1, max: 65535, integer: true });
  return { address, port };
}

/**
 * The stop deadline: the service's own `gracefulTimeout`, but never beyond 90 % of the
 * entrypoint's `shutdownTimeout`, so the entrypoint never has to cut a server's stop.
 */
export function stopDeadline(gracefulTimeout: number, entrypoint: Entrypoint | undefined): number {
  const shutdownTimeout = entrypoint?.options.shutdownTimeout;
  if (shutdownTimeout === undefined || !Number.isFinite(shutdownTimeout)) return gracefulTimeout;
  return Math.min(gracefulTimeout, shutdownTimeout * 0.9);
}

/** `host:port`, with brackets around IPv6 addresses. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown peer';
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
