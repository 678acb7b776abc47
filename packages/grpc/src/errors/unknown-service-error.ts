import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.UnknownServiceError');

/**
 * A service (or a method of one) was asked for by a name that the loaded `.proto` files do
 * not define: `protos.service(name)`, `protos.client(name)`, or an implementation given to
 * `GRPCService.addService` with a method the service does not have. The message lists the
 * names that exist.
 *
 * @example
 * ```ts
 * protos.service('helloworld.Greter');
 * // UnknownServiceError: no service "helloworld.Greter" in hello.proto; it defines helloworld.Greeter
 * ```
 */
export class UnknownServiceError extends AiomiscError {
  private readonly [marker] = true;
  /** The name that was not found. */
  readonly serviceName: string;
  /** The names that exist. */
  readonly known: readonly string[];

  constructor(serviceName: string, known: readonly string[], message: string) {
    super(message);
    this.name = 'UnknownServiceError';
    this.serviceName = serviceName;
    this.known = known;
  }

  /** True when `error` is an {@link UnknownServiceError} from any copy of the package. */
  static override isInstance(error: unknown): error is UnknownServiceError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
