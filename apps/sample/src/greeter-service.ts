import type { ServerUnaryCall } from '@grpc/grpc-js';
import { getLogger, sleep } from '@aiomisc/core';
import { GRPCService, loadProtos, type GRPCServiceOptions } from '@aiomisc/grpc';

import type { AppConfig } from './config-service.js';
import type { Describable } from './status-board.js';
import { waitFor } from './wait-for.js';

const log = getLogger('sample.grpc');

/** The seed's hello.proto, shipped next to dist/ and src/. */
export const protoPath = new URL('../proto/hello.proto', import.meta.url).pathname;
export const GREETER = 'helloworld.Greeter';

/** Where the {@link GreeterService} listens and how it drains. */
export interface GreeterListenOptions {
  /** Address and port to bind, e.g. `127.0.0.1:50051` (port 0: any free one). */
  listen: string;
  /** How long health says NOT_SERVING while calls are still accepted, before the stop (ms). */
  drainDelay: number;
}

/**
 * The seed's gRPC Greeter on `GRPCService`, with server reflection and the standard health
 * service. The greeting comes from the `config` another service puts into the context. At stop,
 * health turns NOT_SERVING first and new calls are still served for `drainDelay` (so a client
 * watching health moves away before the server refuses calls), then the graceful stop runs.
 */
export class GreeterService extends GRPCService implements Describable {
  #greeting = 'Hello';
  #calls = 0;
  readonly #listen: GreeterListenOptions;

  constructor(options: GRPCServiceOptions, listen: GreeterListenOptions) {
    super(options);
    this.#listen = listen;
    const protos = loadProtos(protoPath);
    this.addService(protos.service(GREETER), {
      SayHello: async (call: ServerUnaryCall<{ name: string }, unknown>) => {
        this.#calls++;
        return { message: `${this.#greeting}, ${call.request.name}!` };
      },
    });
    this.addInsecurePort(listen.listen);
  }

  override async start() {
    this.#greeting = (await waitFor<AppConfig>(this, 'config')).greeting;
    // A stop that came while this start waited found nothing to stop: bind nothing then.
    this.signal.throwIfAborted();
    await super.start();
    const [bound] = this.ports;
    const host = this.#listen.listen.slice(0, this.#listen.listen.lastIndexOf(':'));
    log.info(`grpc listening on ${host}:${bound!.port} (reflection, health)`);
  }

  override async stop() {
    if (this.ports.length > 0) {
      this.setServingStatus('', 'NOT_SERVING');
      this.setServingStatus(GREETER, 'NOT_SERVING');
      await sleep(this.#listen.drainDelay);
    }
    await super.stop();
    log.info({ service: 'GreeterService', calls: this.#calls }, 'GreeterService stopped');
  }

  describe() {
    return {
      ports: this.ports.map((port) => port.port),
      health: this.getServingStatus(''),
      calls: this.#calls,
    };
  }
}
