const marker = Symbol.for('aiomisc.error');

/**
 * Base class of every error thrown by the `@aiomisc/*` packages.
 *
 * Use {@link AiomiscError.isInstance} rather than `instanceof`: it also recognises errors
 * thrown by another copy of the package (ESM and CJS builds, duplicate installs).
 *
 * @example
 * ```ts
 * try {
 *   await ep.start();
 * } catch (error) {
 *   if (AiomiscError.isInstance(error)) console.error(error.name, error.message);
 * }
 * ```
 */
export class AiomiscError extends Error {
  private readonly [marker] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AiomiscError';
  }

  /** True when `error` is an {@link AiomiscError} from any copy of the package. */
  static isInstance(error: unknown): error is AiomiscError {
    return isMarked(error, marker);
  }
}

/**
 * Tells whether `value` carries the given marker symbol; the subclasses' `isInstance` use it.
 * @internal
 */
export function isMarked(value: unknown, symbol: symbol): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    symbol in value &&
    (value as Record<symbol, unknown>)[symbol] === true
  );
}
