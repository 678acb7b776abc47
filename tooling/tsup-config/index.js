import { defineConfig } from 'tsup';

/**
 * The one build shape of every @aiomisc/* package: ESM + CJS + .d.ts, sourcemaps, Node 20.
 * `entry` defaults to `src/index.ts`; packages with worker entry files pass more.
 * @param {{ entry?: string[] | Record<string, string> }} [options]
 */
export function getTsupConfig(options = {}) {
  return defineConfig({
    entry: options.entry ?? ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    shims: true,
    splitting: false,
    // Keep `import()` a real dynamic import in the CJS build too, so plugins and worker
    // modules given as file URLs (ESM or CJS) load the same from both builds.
    esbuildOptions(esbuild) {
      esbuild.supported = { ...esbuild.supported, 'dynamic-import': true };
    },
  });
}
