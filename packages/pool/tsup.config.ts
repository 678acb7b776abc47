import { getTsupConfig } from '@aiomisc/tsup-config';

// Worker entries ship next to the index: the thread pool loads dist/worker.{js,cjs}, the
// process pools fork dist/process-worker.{js,cjs}, and core's plugin loader imports dist/plugin.js.
export default getTsupConfig({
  entry: ['src/index.ts', 'src/worker.ts', 'src/process-worker.ts', 'src/plugin.ts'],
});
