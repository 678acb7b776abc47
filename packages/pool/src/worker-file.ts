import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Path of one of the package's worker entry files (`worker` for threads, `process-worker` for
 * forked processes), next to the running build: `.cjs` from the CJS build, `.js` from the ESM
 * one. `AIOMISC_POOL_WORKER_DIR` overrides the folder (the test suite points it at a build
 * made for the tests, because running from `src/*.ts` has no JavaScript entry next to it).
 * @internal
 */
export function workerFile(base: 'worker' | 'process-worker'): string {
  const here = import.meta.url;
  const extension = here.endsWith('.cjs') ? '.cjs' : '.js';
  const override = process.env.AIOMISC_POOL_WORKER_DIR;
  if (override) return join(override, `${base}${extension}`);
  if (here.endsWith('.ts')) return fileURLToPath(new URL(`../dist/${base}.js`, here));
  return fileURLToPath(new URL(`./${base}${extension}`, here));
}
