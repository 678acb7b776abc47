/**
 * A process-wide (per thread) slot shared by every copy of `@aiomisc/pool` loaded in the same
 * thread (ESM and CJS builds, the worker entry, duplicate installs): the function registry, the
 * default pool and the context storage must not be split between copies.
 * @internal
 */
export function globalSlot<TValue>(key: string, create: () => TValue): TValue {
  const symbol = Symbol.for(`aiomisc.pool.${key}`);
  const holder = globalThis as unknown as Record<symbol, TValue | undefined>;
  return (holder[symbol] ??= create());
}
