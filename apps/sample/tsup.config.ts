import { defineConfig } from 'tsup';

// Each file compiled on its own (no bundling): hash.js must stay a module of its own, because
// the worker threads import it by its URL and must not run main.js.
export default defineConfig({
  entry: ['src/**/*.ts'],
  format: ['esm'],
  bundle: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
});
