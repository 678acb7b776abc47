import type { UserConfig } from 'vitest/config';
export declare function getVitestConfig(options?: { testTimeout?: number }): UserConfig;
