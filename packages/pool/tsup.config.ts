import { getTsupConfig } from '@aiomisc/tsup-config';

// Worker entries ship next to the index: the thread pool loads dist/aiomisc-pool-worker.{js,cjs},
// the process pools fork dist/aiomisc-pool-process-worker.{js,cjs}, and core's plugin loader
// imports dist/plugin.js. The worker names are the same next to a bundle (workerEntryPoints()),
// where piscina's own worker takes the name worker.js.
export default getTsupConfig({
  entry: {
    index: 'src/index.ts',
    'aiomisc-pool-worker': 'src/worker.ts',
    'aiomisc-pool-process-worker': 'src/process-worker.ts',
    plugin: 'src/plugin.ts',
  },
});
