import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@aiomisc/core';
import { afterEach, expect } from 'vitest';

const made: string[] = [];

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aiomisc-io-'));
  made.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The number of open file descriptors of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Expects `promise` to reject with an InvalidArgumentError naming `argument` and `value`. */
export async function expectInvalidArgument(
  promise: Promise<unknown>,
  argument: string,
  value: unknown,
): Promise<InvalidArgumentError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
  const invalid = error as InvalidArgumentError;
  expect(invalid.argument).toBe(argument);
  expect(invalid.value).toEqual(value);
  expect(invalid.message).toContain(
    typeof value === 'string' ? JSON.stringify(value) : String(value),
  );
  return invalid;
}
