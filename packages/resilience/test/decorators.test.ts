import { readFile } from 'node:fs/promises';
import { runInThisContext } from 'node:vm';

import ts from 'typescript';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import * as resilience from '../src/index';
import { CircuitBreaker, CircuitBroken, TimeoutError } from '../src/index';
import type { defineClient } from './fixtures/decorated-client';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const breaker = new CircuitBreaker({ errorRatio: 0.5, responseTime: 1000, minimumCalls: 1 });

async function loadClient(): Promise<ReturnType<typeof defineClient>> {
  const source = await readFile(new URL('fixtures/decorated-client.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS },
  });
  const exports: { defineClient?: typeof defineClient } = {};
  const define = runInThisContext(`(function (exports, require) {\n${outputText}\n})`) as (
    target: typeof exports,
    load: () => unknown,
  ) => void;
  define(exports, () => ({}));
  return exports.defineClient!(resilience, breaker);
}

let Client: Awaited<ReturnType<typeof loadClient>>;
beforeAll(async () => {
  Client = await loadClient();
});

describe('method decorators', () => {
  it('retries a method with its this and arguments', async () => {
    const client = new Client(2);
    await expect(client.flaky('v')).resolves.toBe('v:3');
    await expect(new Client(5).flaky('v')).rejects.toThrow('attempt 3');
  });

  it('limits a method with timeout', async () => {
    const result = new Client(0).slow().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    expect(TimeoutError.isInstance(await result)).toBe(true);
  });

  it('applies asyncbackoff attempt timeouts to a method', async () => {
    const client = new Client(0);
    const result = client.hangs().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    expect(TimeoutError.isInstance(await result)).toBe(true);
    expect(client.attempts).toBe(2);
  });

  it('puts a method behind a breaker (cutout or breaker.wrap)', async () => {
    const client = new Client(0);
    for (let i = 0; i < 10; i++) await client.broken().catch(() => undefined);
    expect(CircuitBroken.isInstance(await client.broken().catch((error: unknown) => error))).toBe(
      true,
    );

    await expect(client.shared(false)).resolves.toBe('shared ok');
    await client.shared(true).catch(() => undefined);
    expect(breaker.state).toBe('BROKEN');
    expect(
      CircuitBroken.isInstance(await client.shared(false).catch((error: unknown) => error)),
    ).toBe(true);
  });
});
