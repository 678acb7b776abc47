import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

import type { TlsFileOptions } from '@aiomisc/core';
import { tlsClientOptions } from '@aiomisc/core';
import { connectSocket } from './connect';
import type { RobustTCPClientOptions, TCPClientOptions } from './tcp-client';
import { RobustTCPClient, TCPClient } from './tcp-client';

/** The TLS part of the TLS clients' options. */
export interface TLSClientFileOptions extends TlsFileOptions {
  /** The name sent as SNI and checked against the server's certificate. @default the address, unless it is an IP */
  servername?: string;
}

/** Options of {@link TLSClient}. */
export interface TLSClientOptions extends TCPClientOptions, TLSClientFileOptions {}

/** Options of {@link RobustTLSClient}. */
export interface RobustTLSClientOptions extends RobustTCPClientOptions, TLSClientFileOptions {}

function connectTls(
  target: { address: string; port: number; connectTimeout: number },
  options: ReturnType<typeof tlsClientOptions> & { servername?: string },
  signal: AbortSignal,
): Promise<TLSSocket> {
  const { address, port, connectTimeout } = target;
  const servername = options.servername ?? (isIP(address) === 0 ? address : undefined);
  return connectSocket(
    () => tlsConnect({ ...options, host: address, port, ...(servername ? { servername } : {}) }),
    'secureConnect',
    { timeoutMs: connectTimeout, signal },
  );
}

function resolveTls(options: TLSClientFileOptions): ReturnType<typeof tlsClientOptions> & {
  servername?: string;
} {
  const resolved = tlsClientOptions(options);
  return options.servername === undefined
    ? resolved
    : { ...resolved, servername: options.servername };
}

/**
 * {@link TCPClient} over TLS. The server's certificate and host name are verified by default
 * (against `ca` when given, else Node's bundled roots): the Python does not verify, we do.
 * `cert`/`key` present a client certificate; `verify: false` turns verification off.
 *
 * @example
 * ```ts
 * class Hello extends TLSClient {
 *   handleConnection(socket: TLSSocket) {
 *     socket.end('hello\n');
 *   }
 * }
 * new Hello({ address: 'localhost', port: 8900, ca: 'ca.pem', cert: 'client.pem', key: 'client.key' });
 * ```
 */
export abstract class TLSClient<
  TOptions extends TLSClientOptions = TLSClientOptions,
> extends TCPClient<TOptions> {
  readonly #tls: ReturnType<typeof resolveTls>;

  constructor(...args: ConstructorParameters<typeof TCPClient<TOptions>>) {
    super(...args);
    this.#tls = resolveTls(this.options);
  }

  abstract override handleConnection(socket: TLSSocket, signal: AbortSignal): void | Promise<void>;

  protected override get statisticKind(): string {
    return 'TLSClientStatistic';
  }

  protected override connect(signal: AbortSignal): Promise<Socket> {
    return connectTls(this.target, this.#tls, signal);
  }
}

/**
 * {@link RobustTCPClient} over TLS, verifying the server as {@link TLSClient} does. A failed
 * verification counts as a failed attempt (set `reconnect.giveup` to stop on it).
 *
 * @example
 * ```ts
 * class Feed extends RobustTLSClient {
 *   handleConnection(socket: TLSSocket) {
 *     socket.on('data', (chunk) => console.log(chunk.toString()));
 *   }
 * }
 * new Feed({ address: 'localhost', port: 9443, ca: 'ca.pem' });
 * ```
 */
export abstract class RobustTLSClient<
  TOptions extends RobustTLSClientOptions = RobustTLSClientOptions,
> extends RobustTCPClient<TOptions> {
  readonly #tls: ReturnType<typeof resolveTls>;

  constructor(...args: ConstructorParameters<typeof RobustTCPClient<TOptions>>) {
    super(...args);
    this.#tls = resolveTls(this.options);
  }

  abstract override handleConnection(socket: TLSSocket, signal: AbortSignal): void | Promise<void>;

  protected override get statisticKind(): string {
    return 'RobustTLSClientStatistic';
  }

  protected override connect(signal: AbortSignal): Promise<Socket> {
    return connectTls(this.target, this.#tls, signal);
  }
}
