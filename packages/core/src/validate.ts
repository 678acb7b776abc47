import { InvalidArgumentError } from './errors/invalid-argument-error';

/** Limits for {@link expectNumber}. */
export interface NumberConstraints {
  /** Smallest accepted value (inclusive). @default -Infinity */
  min?: number;
  /** Largest accepted value (inclusive). @default Infinity */
  max?: number;
  /** Reject fractions. @default false */
  integer?: boolean;
  /** Accept `Infinity` (for "no limit" options). @default false */
  allowInfinity?: boolean;
}

/**
 * Checks that `value` is a number within the constraints and returns it; otherwise throws an
 * {@link InvalidArgumentError} naming `argument`, the value and what was expected.
 * The `@aiomisc/*` packages use it for every numeric option.
 *
 * @example
 * ```ts
 * const interval = expectNumber('interval', options.interval, { min: 0 });
 * ```
 */
export function expectNumber(
  argument: string,
  value: unknown,
  constraints: NumberConstraints = {},
): number {
  const { min = -Infinity, max = Infinity, integer = false, allowInfinity = false } = constraints;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (allowInfinity ? value !== -Infinity || min === -Infinity : Number.isFinite(value)) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value) || value === Infinity);
  if (!ok) {
    const parts = [integer ? 'an integer' : allowInfinity ? 'a number' : 'a finite number'];
    if (min !== -Infinity) parts.push(`>= ${min}`);
    if (max !== Infinity) parts.push(`<= ${max}`);
    throw new InvalidArgumentError(argument, value, parts.join(' '));
  }
  return value;
}

/**
 * Checks that `value` is one of `choices` and returns it; otherwise throws an
 * {@link InvalidArgumentError} that lists the choices.
 *
 * @example
 * ```ts
 * const format = expectOneOf('logFormat', 'xml', LOG_FORMATS);
 * // InvalidArgumentError: logFormat must be one of stream, color, json, ..., got "xml"
 * ```
 */
export function expectOneOf<TChoice extends string>(
  argument: string,
  value: unknown,
  choices: readonly TChoice[],
): TChoice {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(argument, value, `one of ${choices.join(', ')}`);
  }
  return value as TChoice;
}

/**
 * Checks that `value` is a function and returns it; otherwise throws an {@link InvalidArgumentError}.
 *
 * @example
 * ```ts
 * const callback = expectFunction('callback', fn);
 * ```
 */
export function expectFunction<TFunction extends (...args: never[]) => unknown>(
  argument: string,
  value: TFunction,
): TFunction {
  if (typeof value !== 'function') throw new InvalidArgumentError(argument, value, 'a function');
  return value;
}

/**
 * Checks that `value` is a boolean and returns it; otherwise throws an
 * {@link InvalidArgumentError} (a string such as `'no'` is not taken for `true`).
 *
 * @example
 * ```ts
 * const buffered = expectBoolean('logBuffering', options.logBuffering);
 * ```
 */
export function expectBoolean(argument: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, value, 'true or false');
  return value;
}
