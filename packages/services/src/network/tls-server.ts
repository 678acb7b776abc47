import type { Server, Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';

import { MAX_TIMER_DELAY, expectNumber, getLogger } from '@aiomisc/core';

import type { TlsFileOptions } from '@aiomisc/core';
import { tlsServerOptions } from '@aiomisc/core';
import { formatPeer } from './options';
import type { TCPServerStatistic } from './statistics';
import { TLSServerStatistic } from './statistics';
import type { TCPServerOptions } from './tcp-server';
import { TCPServer } from './tcp-server';

const log = getLogger('aiomisc.services.tls');

/** Options of {@link TLSServer}: those of {@link TCPServerOptions} and the TLS files. */
export interface TLSServerOptions extends TCPServerOptions, TlsFileOptions {
  /** The TLS handshake must finish within this many ms, or the socket is destroyed. @default 30000 */
  handshakeTimeout?: number;
}

/**
 * A TLS server as a service: subclass it and implement `handleClient(socket, signal)`, called
 * once the handshake is done. `cert` and `key` are required (PEM contents or paths); with a `ca`,
 * `verify` defaults to on and a client without a certificate signed by that CA is refused during
 * the handshake. Certificates are read at construction: a missing file fails there.
 *
 * @example
 * ```ts
 * class SecureEcho extends TLSServer {
 *   handleClient(socket: TLSSocket) {
 *     socket.pipe(socket);
 *   }
 * }
 * const server = new SecureEcho({ port: 0, cert: 'server.pem', key: 'server.key', ca: 'ca.pem' });
 * ```
 */
export abstract class TLSServer<
  TOptions extends TLSServerOptions = TLSServerOptions,
> extends TCPServer<TOptions> {
  readonly #tls: ReturnType<typeof tlsServerOptions>;

  constructor(...args: ConstructorParameters<typeof TCPServer<TOptions>>) {
    super(...args);
    this.#tls = tlsServerOptions(this.options);
    expectNumber('handshakeTimeout', this.options.handshakeTimeout ?? 30_000, {
      min: 1,
      max: MAX_TIMER_DELAY,
    });
  }

  abstract override handleClient(socket: TLSSocket, signal: AbortSignal): void | Promise<void>;

  protected override createStatistic(name: string | null): TCPServerStatistic {
    return new TLSServerStatistic(name);
  }

  protected override get scheme(): string {
    return 'tls';
  }

  protected override createListener(): Server {
    const { handshakeTimeout = 30_000 } = this.options;
    return createServer({ ...this.#tls, handshakeTimeout });
  }

  protected override bindListener(listener: Server, signal: AbortSignal): void {
    listener.on('connection', (socket: Socket) => {
      this.trackSocket(socket);
    });
    listener.on('secureConnection', (socket: TLSSocket) => {
      if (socket.destroyed) return;
      this.runConnection(socket, signal);
    });
    listener.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.statistic.handshake_errors++;
      log.debug(
        { err: error },
        `${this.constructor.name}: TLS handshake with ${formatPeer(socket.remoteAddress, socket.remotePort)} failed`,
      );
    });
  }
}
