import { AiomiscError, isMarked } from './aiomisc-error';

const marker = Symbol.for('aiomisc.error.RequiredOptionsError');

/**
 * A service was constructed without options that its class lists in `static required`.
 *
 * @example
 * ```ts
 * class Hello extends Service<{ name: string }> {
 *   static override required = ['name'];
 *   async start() {}
 * }
 * new Hello({} as never); // RequiredOptionsError: Hello requires options: name
 * ```
 */
export class RequiredOptionsError extends AiomiscError {
  private readonly [marker] = true;
  /** The class name of the service. */
  readonly className: string;
  /** The options that were missing. */
  readonly missing: readonly string[];

  constructor(className: string, missing: readonly string[]) {
    super(`${className} requires options: ${missing.join(', ')}`);
    this.name = 'RequiredOptionsError';
    this.className = className;
    this.missing = missing;
  }

  static override isInstance(error: unknown): error is RequiredOptionsError {
    return isMarked(error, marker);
  }
}
