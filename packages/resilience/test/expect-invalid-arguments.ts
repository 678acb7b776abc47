import { InvalidArgumentError } from '@aiomisc/core';
import { expect } from 'vitest';

/** Asserts that each call throws an InvalidArgumentError naming the given argument. */
export function expectInvalidArguments(cases: [() => unknown, string][]): void {
  for (const [make, argument] of cases) {
    let error: unknown;
    try {
      make();
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error), argument).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe(argument);
  }
}
