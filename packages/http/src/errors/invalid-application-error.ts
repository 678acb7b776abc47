import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.InvalidApplicationError');

/**
 * `createApplication()` or `createHandler()` returned something the service cannot serve: not
 * a fastify instance, a fastify instance made without the options the service passed, or not
 * a request listener. Thrown by `start()`, before anything is bound.
 *
 * @example
 * ```ts
 * class Broken extends FastifyService {
 *   createApplication() {
 *     return {} as never;
 *   }
 * }
 * await new Broken({ port: 0 }).start(); // InvalidApplicationError
 * ```
 */
export class InvalidApplicationError extends AiomiscError {
  private readonly [marker] = true;
  /** The class name of the service. */
  readonly className: string;

  constructor(className: string, message: string) {
    super(`${className}: ${message}`);
    this.name = 'InvalidApplicationError';
    this.className = className;
  }

  static override isInstance(error: unknown): error is InvalidApplicationError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
