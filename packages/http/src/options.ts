import type { ServerOptions } from 'node:http';
import type { ListenOptions } from 'node:net';

import { expectNumber, InvalidArgumentError } from '@aiomisc/core';
import type { TlsFileOptions } from '@aiomisc/core';

/** Opt-in Kubernetes health routes; see {@link HTTPServiceOptions.health}. */
export interface HealthOptions {
  /** Path of the liveness route, or `false` for none. @default '/livez' */
  liveness?: string | false;
  /** Path of the readiness route, or `false` for none. @default '/readyz' */
  readiness?: string | false;
  /**
   * Serve the routes from a separate server on this port (0 = a free port) instead of the
   * service's own. @default undefined (the service's own server)
   */
  port?: number;
  /** Address of the separate health server. @default the service's `address` */
  address?: string;
}

/** Options of every HTTP service of this package. */
export interface HTTPServiceOptions {
  /** Host or IP address to bind. @default 'localhost' */
  address?: string;
  /** Port to bind; 0 picks a free one (read it with `service.address()`). Required. */
  port?: number;
  /** More `server.listen()` options (`backlog`, `exclusive`, `ipv6Only`). @default {} */
  listen?: Omit<ListenOptions, 'host' | 'port' | 'path'>;
  /**
   * Options of the Node server (`node:http` `ServerOptions`: `requestTimeout`,
   * `headersTimeout`, `keepAlive`...); `keepAliveTimeout` is set on the server too.
   * @default {}
   */
  server?: ServerOptions & { keepAliveTimeout?: number };
  /**
   * Milliseconds between the start of `stop()` (readiness already false) and closing the
   * listener, so that load balancers stop sending new connections first. @default 0
   */
  drainDelay?: number;
  /**
   * Milliseconds that requests in flight get to finish once the listener is closed; what is
   * left then is destroyed. Clamped so that the whole stop fits in the entrypoint's
   * `shutdownTimeout`. `Infinity` waits for ever (or until the entrypoint's limit). @default 5000
   */
  shutdownTimeout?: number;
  /** Liveness and readiness routes: `true` for the defaults. @default false */
  health?: boolean | HealthOptions;
  /** Name of this service's {@link HTTPStatistic} instance. @default null */
  statisticName?: string;
  /** Name shown in logs and the shutdown report. @default undefined */
  name?: string;
}

/** Options of the HTTPS twins: the TLS options of `@aiomisc/core` (`TlsFileOptions`, shared with the TLS servers of `@aiomisc/services` and `@aiomisc/grpc`) and HTTP/2. */
export interface HTTPSServiceOptions extends HTTPServiceOptions, TlsFileOptions {
  /**
   * Serve HTTP/2 (with HTTP/1.1 for clients that do not offer h2 in ALPN). @default false
   */
  http2?: boolean;
}

/** Health routes after defaults. @internal */
export interface ResolvedHealth {
  liveness: string | undefined;
  readiness: string | undefined;
  port: number | undefined;
  address: string | undefined;
}

function expectPort(argument: string, value: unknown): number {
  return expectNumber(argument, value, { min: 0, max: 65535, integer: true });
}

function expectAddress(argument: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(argument, value, 'a host name or IP address');
  }
  return value;
}

function expectPath(argument: string, value: unknown, fallback: string): string | undefined {
  if (value === false) return undefined;
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('?')) {
    throw new InvalidArgumentError(argument, value, 'a path starting with / (no query) or false');
  }
  return value;
}

/** Validated options of the base service. @internal */
export interface ResolvedOptions {
  address: string;
  port: number;
  drainDelay: number;
  shutdownTimeout: number;
  health: ResolvedHealth | undefined;
  statisticName: string | null;
}

/** Checks every option and names the first bad one. @internal */
export function resolveOptions(options: HTTPServiceOptions): ResolvedOptions {
  const address = expectAddress('address', options.address);
  const port = expectPort('port', options.port);
  const drainDelay = expectNumber('drainDelay', options.drainDelay, { min: 0 });
  const shutdownTimeout = expectNumber('shutdownTimeout', options.shutdownTimeout, {
    min: 0,
    allowInfinity: true,
  });
  if (
    options.listen !== undefined &&
    (typeof options.listen !== 'object' || options.listen === null)
  )
    throw new InvalidArgumentError('listen', options.listen, 'an object of listen options');
  if (
    options.server !== undefined &&
    (typeof options.server !== 'object' || options.server === null)
  )
    throw new InvalidArgumentError('server', options.server, 'an object of server options');
  const statisticName = options.statisticName ?? null;
  if (statisticName !== null && typeof statisticName !== 'string')
    throw new InvalidArgumentError('statisticName', statisticName, 'a string');
  return {
    address,
    port,
    drainDelay,
    shutdownTimeout,
    health: resolveHealth(options.health),
    statisticName,
  };
}

function resolveHealth(health: HTTPServiceOptions['health']): ResolvedHealth | undefined {
  if (health === undefined || health === false) return undefined;
  if (health === true) return resolveHealth({});
  if (typeof health !== 'object' || health === null)
    throw new InvalidArgumentError('health', health, 'a boolean or an object of health options');
  const resolved: ResolvedHealth = {
    liveness: expectPath('health.liveness', health.liveness, '/livez'),
    readiness: expectPath('health.readiness', health.readiness, '/readyz'),
    port: health.port === undefined ? undefined : expectPort('health.port', health.port),
    address:
      health.address === undefined ? undefined : expectAddress('health.address', health.address),
  };
  if (resolved.liveness !== undefined && resolved.liveness === resolved.readiness) {
    throw new InvalidArgumentError(
      'health.readiness',
      resolved.readiness,
      'a path other than health.liveness',
    );
  }
  if (resolved.address !== undefined && resolved.port === undefined) {
    throw new InvalidArgumentError('health.port', undefined, 'a port to go with health.address');
  }
  return resolved;
}
