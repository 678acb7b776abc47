import { getStatistics } from '@aiomisc/core';

export * from '../src/index';

/** The counters of one named statistic instance as `{ metric: value }`. */
export function getStatisticsOf(kind: string, name: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const entry of getStatistics(kind))
    if (entry.name === name) result[entry.metric] = entry.value;
  return result;
}

/** The rejection reason of `promise` (fails the test if it resolves). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read fields of the errors freely
export async function caught(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The error `fn` throws (undefined when it does not). */
export function catchSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Polls `condition` every 5 ms until it holds. */
export async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
