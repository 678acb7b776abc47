import { InvalidArgumentError } from './errors/invalid-argument-error';
import { expectNumber, expectOneOf, type NumberConstraints } from './validate';

const truthy = new Set(['1', 'enable', 'enabled', 'on', 'true', 'yes']);
const falsy = new Set(['0', 'disable', 'disabled', 'off', 'false', 'no', '']);

/**
 * Reads a boolean `AIOMISC_*`-style variable: `1, enable, enabled, on, true, yes` are true,
 * `0, disable, disabled, off, false, no` and empty are false, anything else is an error.
 * @returns undefined when the variable is not set.
 * @throws {@link InvalidArgumentError} naming the variable and its value.
 *
 * @example
 * ```ts
 * const buffering = envBoolean('AIOMISC_LOG_BUFFERING') ?? true;
 * ```
 */
export function envBoolean(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): boolean | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if (truthy.has(value)) return true;
  if (falsy.has(value)) return false;
  throw new InvalidArgumentError(
    name,
    raw,
    `one of ${[...truthy, ...falsy].filter(Boolean).join(', ')}`,
  );
}

/**
 * Reads a numeric variable, checked as {@link expectNumber} checks options.
 * `scale` converts units: the seed's variables are in seconds, the TypeScript options in ms.
 * @returns undefined when the variable is not set.
 *
 * @example
 * ```ts
 * const shutdownTimeoutMs = envNumber('AIOMISC_SHUTDOWN_TIMEOUT', { min: 0 }, 1000);
 * ```
 */
export function envNumber(
  name: string,
  constraints: NumberConstraints = {},
  scale = 1,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (Number.isNaN(value)) throw new InvalidArgumentError(name, raw, 'a number');
  return expectNumber(name, value, constraints) * scale;
}

/**
 * Reads a variable whose value must be one of `choices` (compared lower-cased).
 * @returns undefined when the variable is not set or empty.
 *
 * @example
 * ```ts
 * const level = envChoice('AIOMISC_LOG_LEVEL', LOG_LEVELS);
 * ```
 */
export function envChoice<TChoice extends string>(
  name: string,
  choices: readonly TChoice[],
  env: NodeJS.ProcessEnv = process.env,
): TChoice | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return expectOneOf(name, raw.trim().toLowerCase(), choices);
}
