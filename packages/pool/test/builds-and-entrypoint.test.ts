import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Entrypoint, getExtensions } from '@aiomisc/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  getDefaultThreadPool,
  registerThreadPoolExtension,
  setDefaultThreadPool,
  THREAD_POOL_EXTENSION,
} from './helpers';

const run = promisify(execFile);
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const build = fileURLToPath(new URL('./dist/', import.meta.url));
const temporary: string[] = [];

afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

async function node(
  script: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {},
) {
  const { stdout } = await run(
    process.execPath,
    [join(fixtures, script), ...(options.args ?? [])],
    {
      cwd: options.cwd ?? fixtures,
      env: { ...process.env, ...options.env },
      timeout: 20_000,
    },
  );
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON printed by the fixture scripts
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, any>;
}

describe('the ESM and CJS builds', () => {
  it('a CJS consumer of the CJS build runs CJS and ESM module code in threads and processes', async () => {
    const result = await node('consumer.cjs');
    expect(result.fromCjs).toEqual({
      digest: '900150983cd24fb0d6963f7d28e17f72',
      isMainThread: false,
    });
    expect(result.fromEsm).toBe(5);
    expect(result.fromProcess.sum).toBe(9);
    expect(result.fromProcess.pid).not.toBe(result.parent);
  });

  it('an ESM consumer of the ESM build runs without an entrypoint and exits by itself', async () => {
    const result = await node('consumer.mjs');
    expect(result.fromEsm.isMainThread).toBe(false);
    expect(result.fromEsm.digest).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(result.fromCjs).toEqual({
      digest: '900150983cd24fb0d6963f7d28e17f72',
      isMainThread: false,
    });
  });
});

describe('the default pool in an entrypoint', () => {
  it('is installed with poolSize threads by the core plugin of an app that depends on the package', async () => {
    const app = mkdtempSync(join(tmpdir(), 'aiomisc-pool-app-'));
    temporary.push(app);
    const installed = join(app, 'node_modules', '@aiomisc', 'pool');
    mkdirSync(installed, { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', dependencies: { '@aiomisc/pool': '*' } }),
    );
    writeFileSync(
      join(installed, 'package.json'),
      JSON.stringify({
        name: '@aiomisc/pool',
        aiomisc: { plugins: { pool: join(build, 'plugin.js') } },
      }),
    );
    const result = await node('entrypoint-app.mjs', { cwd: app, env: { AIOMISC_NO_PLUGINS: '' } });
    expect(result).toEqual({ size: 3, closedAfterStop: true, worked: true });
  });

  it('is installed by the explicit registration when plugins are off', async () => {
    const result = await node('entrypoint-app.mjs', {
      env: { AIOMISC_NO_PLUGINS: '1' },
      args: ['--register'],
    });
    expect(result).toEqual({ size: 3, closedAfterStop: true, worked: true });
  });

  it('replaces the lazily made default pool at start and closes its own at stop', async () => {
    const unregister = registerThreadPoolExtension();
    try {
      expect(getExtensions().some((extension) => extension.name === THREAD_POOL_EXTENSION)).toBe(
        true,
      );
      const lazy = getDefaultThreadPool();
      const ep = new Entrypoint({
        poolSize: 2,
        catchSignals: [],
        logConfig: false,
        plugins: false,
      });
      await ep.start();
      const installed = getDefaultThreadPool();
      expect(installed).not.toBe(lazy);
      expect(installed.size).toBe(2);
      await ep.stop();
      expect(installed.closed).toBe(true);
      expect(lazy.closed).toBe(true);
    } finally {
      unregister();
      await setDefaultThreadPool(undefined)?.close();
    }
  });
});
