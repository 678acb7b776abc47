import { AiomiscError, isMarked } from './aiomisc-error';

const marker = Symbol.for('aiomisc.error.InvalidArgumentError');

/**
 * Bad input: an option, argument or environment variable whose value is not what was expected.
 * The message names the argument, the value received and what was expected.
 *
 * @example
 * ```ts
 * entrypoint({ shutdownTimeout: -1 });
 * // InvalidArgumentError: shutdownTimeout must be a finite number >= 0, got -1
 * ```
 */
export class InvalidArgumentError extends AiomiscError {
  private readonly [marker] = true;
  /** The name of the argument, option or environment variable. */
  readonly argument: string;
  /** The value that was rejected. */
  readonly value: unknown;

  constructor(argument: string, value: unknown, expected: string) {
    super(`${argument} must be ${expected}, got ${describeValue(value)}`);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
    this.value = value;
  }

  static override isInstance(error: unknown): error is InvalidArgumentError {
    return isMarked(error, marker);
  }
}

/**
 * Renders a value for an error message: strings quoted, objects by class name.
 * @internal
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object' && value !== null) {
    const name = value.constructor?.name;
    return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
  }
  return String(value);
}
