import { getVitestConfig } from '@aiomisc/vitest-config';
import { mergeConfig } from 'vitest/config';

// test/global-setup.ts builds the package (workers included) into test/dist, so the tests
// never depend on, or race with, the package's own dist.
export default mergeConfig(getVitestConfig({ testTimeout: 30_000 }), {
  test: { globalSetup: ['test/global-setup.ts'] },
});
