import { describe, expect, it } from 'vitest';
import { getStatistics, Statistic } from '../src/index';

class CacheStatistic extends Statistic {
  readonly kind = 'CacheStatistic';
  hits = 0;
  misses = 0;
}

describe('getStatistics', () => {
  it('reports every counter of live instances, filtered by kind', () => {
    const stats = new CacheStatistic('users');
    stats.hits += 3;
    stats.misses++;
    expect(getStatistics('CacheStatistic').filter((entry) => entry.name === 'users')).toEqual([
      { kind: 'CacheStatistic', name: 'users', metric: 'hits', value: 3 },
      { kind: 'CacheStatistic', name: 'users', metric: 'misses', value: 1 },
    ]);
    expect(getStatistics('NoSuchKind')).toEqual([]);
    expect(getStatistics().some((entry) => entry.kind === 'CacheStatistic')).toBe(true);
    expect(stats.metrics()).toEqual({ hits: 3, misses: 1 });
  });
});
