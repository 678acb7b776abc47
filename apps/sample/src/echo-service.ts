import type { Socket } from 'node:net';

import { getLogger, sleep } from '@aiomisc/core';
import { TCPServer, type TCPServerOptions } from '@aiomisc/services';

import type { Describable } from './status-board.js';

const log = getLogger('sample.echo');

/** Options of the {@link EchoService}. */
export interface EchoServiceOptions extends TCPServerOptions {
  /** How long the listener keeps accepting and connections keep echoing after the stop began (ms). */
  drainDelay: number;
}

/**
 * A TCP echo server (`TCPServer`): whatever a client sends comes back. At stop it keeps serving
 * for `drainDelay` (as the HTTP API does), then TCPServer's stop closes the listener, ends the
 * connections and destroys what is left at its deadline.
 */
export class EchoService extends TCPServer<EchoServiceOptions> implements Describable {
  static override required = ['drainDelay'];
  #connections = 0;

  handleClient(socket: Socket) {
    this.#connections++;
    socket.pipe(socket);
  }

  override async start() {
    await super.start();
    const { address, port } = this.address();
    log.info(`tcp echo listening on ${address}:${port}`);
  }

  override async stop() {
    await sleep(this.options.drainDelay);
    await super.stop();
    log.info({ service: 'EchoService', connections: this.#connections }, 'EchoService stopped');
  }

  describe() {
    return { connections: this.#connections };
  }
}
