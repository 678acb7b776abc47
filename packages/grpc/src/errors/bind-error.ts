import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.BindError');

/**
 * `GRPCService.start()` could not bind one of its ports (the address is in use, cannot be
 * resolved or is not allowed). Every port bound before it has been closed again when this is
 * thrown. grpc-js's own error is the `cause`.
 *
 * @example
 * ```ts
 * try {
 *   await service.start();
 * } catch (error) {
 *   if (BindError.isInstance(error)) console.error(`cannot listen on ${error.address}`);
 * }
 * ```
 */
export class BindError extends AiomiscError {
  private readonly [marker] = true;
  /** The address as given to `addInsecurePort` / `addSecurePort`. */
  readonly address: string;

  constructor(address: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot bind gRPC port ${address}: ${reason}`, { cause });
    this.name = 'BindError';
    this.address = address;
  }

  /** True when `error` is a {@link BindError} from any copy of the package. */
  static override isInstance(error: unknown): error is BindError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
