import { status } from '@grpc/grpc-js';
import { Statistic } from '@aiomisc/core';

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(status)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [value, name]),
);

/**
 * The counters of one gRPC method of a {@link GRPCService}, in `@aiomisc/core`'s statistics
 * registry (`getStatistics('GRPCMethodStatistic')`). The name is the method path
 * (`/helloworld.Greeter/SayHello`), prefixed with `statisticName:` when the service has one.
 * Besides the fixed counters, every status other than OK that a call ended with has its own
 * counter, `status_<NAME>` (`status_NOT_FOUND`, `status_CANCELLED`, ...).
 *
 * @example
 * ```ts
 * for (const { name, metric, value } of getStatistics('GRPCMethodStatistic')) {
 *   console.log(name, metric, value); // /helloworld.Greeter/SayHello calls 42 ...
 * }
 * ```
 */
export class GRPCMethodStatistic extends Statistic {
  readonly kind = 'GRPCMethodStatistic';
  /** Calls that reached the handler. */
  calls = 0;
  /** Calls whose handler started and whose status is not sent yet. */
  in_flight = 0;
  /** Calls that ended with status OK. */
  ok = 0;
  /** Calls that ended with any other status (each also counted in its `status_<NAME>`). */
  errors = 0;

  /** @internal counts the end of one call. */
  finish(code: number): void {
    this.in_flight--;
    if (code === (status.OK as number)) {
      this.ok++;
      return;
    }
    this.errors++;
    const key = `status_${CODE_NAMES[code] ?? String(code)}`;
    const counters = this as unknown as Record<string, number>;
    counters[key] = (counters[key] ?? 0) + 1;
  }
}
