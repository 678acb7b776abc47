import { getTsupConfig } from '@aiomisc/tsup-config';

export default getTsupConfig({ entry: ['src/index.ts', 'src/testing.ts'] });
