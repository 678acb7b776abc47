import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = fileURLToPath(new URL('./dist', import.meta.url));

export async function setup(): Promise<void> {
  await build({
    entry: {
      index: 'src/index.ts',
      'aiomisc-pool-worker': 'src/worker.ts',
      'aiomisc-pool-process-worker': 'src/process-worker.ts',
      plugin: 'src/plugin.ts',
    },
    format: ['esm', 'cjs'],
    outDir,
    target: 'node20',
    platform: 'node',
    shims: true,
    splitting: false,
    clean: true,
    dts: false,
    sourcemap: false,
    silent: true,
    config: false,
    esbuildOptions(options) {
      options.supported = { ...options.supported, 'dynamic-import': true };
      options.absWorkingDir = root;
    },
  });
  process.env.AIOMISC_POOL_WORKER_DIR = outDir;
}
