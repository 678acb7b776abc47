import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadProtos, type LoadedProtos } from './load-protos';

/** A `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** The serving statuses `GRPCService.setServingStatus` accepts. */
export const SERVING_STATUSES: readonly ServingStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING'];

/** The full name of the standard health service. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

let healthProtos: LoadedProtos | undefined;

/**
 * The `grpc.health.v1` protos shipped in this package (`proto/grpc/health/v1/health.proto`),
 * loaded once: `loadHealthProtos().client('grpc.health.v1.Health')` is a health client class.
 *
 * @example
 * ```ts
 * const Health = loadHealthProtos().client('grpc.health.v1.Health');
 * const client = new Health('127.0.0.1:50051', credentials.createInsecure());
 * ```
 */
export function loadHealthProtos(): LoadedProtos {
  healthProtos ??= loadProtos(
    fileURLToPath(new URL('../proto/grpc/health/v1/health.proto', import.meta.url)),
  );
  return healthProtos;
}

interface HealthRequest {
  service: string;
}

type WatchCall = grpc.ServerWritableStream<HealthRequest, { status: ServingStatus }>;

/**
 * The standard health service (`grpc.health.v1.Health`: Check, List, Watch) over a table of
 * serving statuses that the GRPCService keeps.
 * @internal
 */
export class HealthState {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<WatchCall>>();
  #closed = false;

  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  entries(): [string, ServingStatus][] {
    return [...this.#statuses];
  }

  /** Opens the table again for a new run of the server. */
  reset(): void {
    this.#closed = false;
  }

  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const call of this.#watchers.get(service) ?? []) {
      if (!call.cancelled && !call.writableEnded) call.write({ status });
    }
  }

  /** Ends every Watch stream (after the NOT_SERVING it was sent), so a graceful stop can end. */
  endWatches(): void {
    this.#closed = true;
    for (const calls of this.#watchers.values()) {
      for (const call of calls) if (!call.writableEnded && !call.destroyed) call.end();
    }
    this.#watchers.clear();
  }

  implementation(): grpc.UntypedServiceImplementation {
    const check: grpc.handleUnaryCall<HealthRequest, { status: ServingStatus }> = (
      call,
      callback,
    ) => {
      const status = this.#statuses.get(call.request.service);
      if (status === undefined) {
        callback({
          code: grpc.status.NOT_FOUND,
          details: `unknown service ${JSON.stringify(call.request.service)}`,
        });
      } else callback(null, { status });
    };
    const list: grpc.handleUnaryCall<unknown, unknown> = (_call, callback) => {
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const [service, status] of this.#statuses) statuses[service] = { status };
      callback(null, { statuses });
    };
    const watch: grpc.handleServerStreamingCall<HealthRequest, { status: ServingStatus }> = (
      call,
    ) => {
      const service = call.request.service;
      call.write({ status: this.#statuses.get(service) ?? 'SERVICE_UNKNOWN' });
      if (this.#closed) {
        call.end();
        return;
      }
      let calls = this.#watchers.get(service);
      if (!calls) this.#watchers.set(service, (calls = new Set()));
      calls.add(call);
      const forget = (): void => {
        this.#watchers.get(service)?.delete(call);
      };
      call.on('cancelled', forget);
      call.on('close', forget);
    };
    return { Check: check, List: list, Watch: watch };
  }
}
