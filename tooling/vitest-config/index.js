import { defineConfig } from 'vitest/config';

/**
 * The shared test setup: tests in `test/`, mocks restored, at most two files at once
 * (the CI machine has two cores and many tests spawn processes).
 * @param {{ testTimeout?: number }} [options]
 */
export function getVitestConfig(options = {}) {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      restoreMocks: true,
      pool: 'forks',
      maxWorkers: 2,
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: 20_000,
    },
  });
}
