import { getStatistics } from '@aiomisc/core';

export * from '../src/index';

/** The counters of one named statistic instance as `{ metric: value }`. */
export function getStatisticsOf(kind: string, name: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const entry of getStatistics(kind)) if (entry.name === name) result[entry.metric] = entry.value;
  return result;
}
