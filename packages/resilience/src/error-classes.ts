import type { ErrorClass } from '@aiomisc/core';
import { InvalidArgumentError } from '@aiomisc/core';

/**
 * Builds the predicate that tells whether an error belongs to one of `classes`. A class with its
 * own static `isInstance` (every `@aiomisc/*` error) is asked through it, so errors from another
 * copy of a package match too; any other class is matched with `instanceof`.
 * @internal
 */
export function errorMatcher(argument: string, classes: readonly ErrorClass[]): (error: unknown) => boolean {
  if (!Array.isArray(classes)) throw new InvalidArgumentError(argument, classes, 'an array of error classes');
  const checks = classes.map((cls, index) => {
    if (typeof cls !== 'function') {
      throw new InvalidArgumentError(`${argument}[${index}]`, cls, 'an error class');
    }
    const own = Object.prototype.hasOwnProperty.call(cls, 'isInstance')
      ? (cls as unknown as { isInstance: unknown }).isInstance
      : undefined;
    if (typeof own === 'function') {
      const isInstance = own as (error: unknown) => boolean;
      return (error: unknown) => isInstance.call(cls, error);
    }
    return (error: unknown) => error instanceof cls;
  });
  if (checks.length === 0) return () => false;
  if (checks.length === 1) return checks[0]!;
  return (error) => {
    for (const check of checks) if (check(error)) return true;
    return false;
  };
}
