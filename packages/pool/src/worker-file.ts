import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The worker entry files' names, the same in the package's `dist` and next to a bundle. */
const NAMES = {
  worker: 'aiomisc-pool-worker',
  'process-worker': 'aiomisc-pool-process-worker',
} as const;

/** Environment variable naming the folder that holds the worker files (bundles, tests). */
export const WORKER_DIR_VARIABLE = 'AIOMISC_POOL_WORKER_DIR';

const BUNDLING_HINT =
  'when bundling, add workerEntryPoints() from @aiomisc/pool to the bundle entry points, so the workers land next to the bundled pool code, or set AIOMISC_POOL_WORKER_DIR to the folder that holds them (see the @aiomisc/pool README, "Bundling")';

const here = import.meta.url;
// The running build's extension (.js, .cjs, or a bundle's own); from src, the ESM build's.
const extension = here.endsWith('.ts') ? '.js' : extname(fileURLToPath(here)) || '.js';

/** The folder of this module's code: the package's `dist`, or a bundle's output folder. */
function ownDirectory(): string {
  // Run from src (the package's own tests): the build next to it.
  if (here.endsWith('.ts')) return fileURLToPath(new URL('../dist/', here));
  return dirname(fileURLToPath(here));
}

/**
 * Path of one of the package's worker entry files (`worker` for threads, `process-worker` for
 * forked processes): `AIOMISC_POOL_WORKER_DIR` when set, else next to the running code (the
 * package's `dist`, or the output folder of a bundle), with the running file's extension
 * (`.cjs` from the CJS build, `.js` from the ESM one).
 * @throws Error naming the missing file and what to do, when it does not exist.
 * @internal
 */
export function workerFile(base: keyof typeof NAMES): string {
  const override = process.env[WORKER_DIR_VARIABLE];
  const file = join(override || ownDirectory(), `${NAMES[base]}${extension}`);
  if (found.has(file)) return file;
  if (!existsSync(file)) {
    throw new Error(
      `the @aiomisc/pool ${base === 'worker' ? 'thread' : 'process'} worker file ${file} was not found${override ? ` (${WORKER_DIR_VARIABLE}=${override})` : ''}; ${BUNDLING_HINT}`,
    );
  }
  found.add(file);
  return file;
}

const found = new Set<string>();

/**
 * Checks that piscina will find its own worker file. Piscina starts every thread from
 * `worker.js` next to its own code: inside `node_modules` it is there; in a bundle it must be
 * an output file next to the bundled piscina code (which `workerEntryPoints()` provides).
 * @throws Error naming the missing file when piscina is bundled without it.
 * @internal
 */
export function checkPiscinaWorker(): void {
  try {
    createRequire(here).resolve('piscina');
    return; // installed: piscina finds its worker itself
  } catch {
    // bundled: piscina's code is next to this module's
  }
  // Piscina's name, whatever the bundle's extension.
  const file = join(dirname(fileURLToPath(here)), 'worker.js');
  if (!existsSync(file)) {
    throw new Error(`piscina's worker file ${file} was not found; ${BUNDLING_HINT}`);
  }
}

/**
 * Entry points to add to a bundle of an app that uses `@aiomisc/pool`, as `{ outputName:
 * sourceFile }` (the object form of esbuild's `entryPoints`; webpack's `entry` and rollup's
 * `input` take the same): the thread worker, the process worker and piscina's own worker.
 * The bundler must write them into the folder where the pool's own code lands (the output
 * folder, with esbuild), under these names. Call it in the build script, not in the app.
 *
 * @example
 * ```ts
 * import { build } from 'esbuild';
 * import { workerEntryPoints } from '@aiomisc/pool';
 *
 * await build({
 *   entryPoints: { main: 'src/main.ts', jobs: 'src/jobs.ts', ...workerEntryPoints() },
 *   bundle: true, splitting: true, format: 'esm', platform: 'node', outdir: 'out',
 * });
 * ```
 */
export function workerEntryPoints(): Record<string, string> {
  const directory = ownDirectory();
  const piscina = createRequire(here).resolve('piscina');
  return {
    [NAMES.worker]: join(directory, `${NAMES.worker}.js`),
    [NAMES['process-worker']]: join(directory, `${NAMES['process-worker']}.js`),
    worker: join(dirname(piscina), 'worker.js'),
  };
}
