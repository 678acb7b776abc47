import { getVitestConfig } from '@aiomisc/vitest-config';

export default getVitestConfig();
