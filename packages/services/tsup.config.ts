import { getTsupConfig } from '@aiomisc/tsup-config';

// dist/process-child.{js,cjs} is the entry ProcessService forks (next to index.{js,cjs}).
export default getTsupConfig({
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing.ts',
    'process-child': 'src/jobs/process-child.ts',
  },
});
