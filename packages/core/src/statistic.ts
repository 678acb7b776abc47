import { globalSlot } from './global-registry';

const registry = globalSlot('statistics', () => new Set<WeakRef<Statistic>>());
const finalizer = globalSlot(
  'statistics.finalizer',
  () => new FinalizationRegistry<WeakRef<Statistic>>((ref) => registry.delete(ref)),
);

/**
 * Base class of a group of counters. A subclass declares its counters as numeric fields
 * initialised to 0 and a `kind`; every live instance shows up in {@link getStatistics} until it
 * is garbage-collected. Counters are plain fields, so `stat.done++` costs what a field write costs.
 *
 * @example
 * ```ts
 * class CacheStatistic extends Statistic {
 *   readonly kind = 'CacheStatistic';
 *   hits = 0;
 *   misses = 0;
 * }
 * const stats = new CacheStatistic('users');
 * stats.hits++;
 * ```
 */
export abstract class Statistic {
  /** The class of counters, as reported in {@link StatisticResult.kind}. */
  abstract readonly kind: string;
  /** The instance's name (the `statisticName` option of the class that counts), or null. */
  readonly name: string | null;

  constructor(name?: string | null) {
    this.name = name ?? null;
    const ref = new WeakRef<Statistic>(this);
    registry.add(ref);
    finalizer.register(this, ref);
  }

  /** The counters of this instance as `{ metric: value }`. */
  metrics(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [key, value] of Object.entries(this)) {
      if (typeof value === 'number') result[key] = value;
    }
    return result;
  }
}

/** One counter of one statistic instance, as {@link getStatistics} reports it. */
export interface StatisticResult {
  /** The statistic class, e.g. `ContextStatistic`. */
  kind: string;
  /** The instance name, or null. */
  name: string | null;
  /** The counter, e.g. `call_count`. */
  metric: string;
  /** Its current value. */
  value: number;
}

/**
 * Every counter of every live statistic instance, optionally only of the given kinds.
 *
 * @example
 * ```ts
 * for (const { kind, name, metric, value } of getStatistics('RecurringCallbackStatistic')) {
 *   console.log(kind, name, metric, value);
 * }
 * ```
 */
export function getStatistics(...kinds: string[]): StatisticResult[] {
  const results: StatisticResult[] = [];
  for (const ref of registry) {
    const statistic = ref.deref();
    if (!statistic) {
      registry.delete(ref);
      continue;
    }
    if (kinds.length > 0 && !kinds.includes(statistic.kind)) continue;
    for (const [metric, value] of Object.entries(statistic.metrics())) {
      results.push({ kind: statistic.kind, name: statistic.name, metric, value });
    }
  }
  return results;
}
