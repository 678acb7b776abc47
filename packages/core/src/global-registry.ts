/**
 * A process-wide slot shared by every copy of `@aiomisc/core` (ESM and CJS builds, duplicate
 * installs), so that statistics, extensions and class signals are not split between copies.
 * @internal
 */
export function globalSlot<TValue>(key: string, create: () => TValue): TValue {
  const symbol = Symbol.for(`aiomisc.${key}`);
  const holder = globalThis as unknown as Record<symbol, TValue | undefined>;
  return (holder[symbol] ??= create());
}
