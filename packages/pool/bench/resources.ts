import { report, round } from '@aiomisc/bench';
import { performance } from 'node:perf_hooks';
import { createPool } from 'generic-pool';
import { Pool as TarnPool } from 'tarn';
import { PoolBase } from '../dist/index.js';

const USERS = 64;
const RESOURCES = 8;

class TrivialPool extends PoolBase<{ id: number }> {
  #next = 0;
  protected createInstance(): Promise<{ id: number }> {
    return Promise.resolve({ id: this.#next++ });
  }
  protected destroyInstance(): Promise<void> {
    return Promise.resolve();
  }
}

/** Pairs per second of `USERS` loops doing acquire -> release for `durationMs`. */
async function pairsPerSecond(
  acquireRelease: () => Promise<void>,
  durationMs: number,
): Promise<number> {
  let pairs = 0;
  let end = 0;
  // The clock is read in the loop, not left to a timer: a pool that hands instances over in
  // microtasks never lets a timer run while the users loop.
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      for (let index = 0; index < 16; index++) await acquireRelease();
      pairs += 16;
    }
  };
  end = performance.now() + 200;
  await Promise.all(Array.from({ length: USERS }, loop));
  pairs = 0;
  const start = performance.now();
  end = start + durationMs;
  await Promise.all(Array.from({ length: USERS }, loop));
  return (pairs * 1000) / (performance.now() - start);
}

/** PoolBase vs generic-pool vs tarn: 64 users, 8 trivial resources, no work between. */
export async function benchResources(): Promise<void> {
  const ours = new TrivialPool({ maxSize: RESOURCES });
  const generic = createPool(
    { create: () => Promise.resolve({}), destroy: () => Promise.resolve() },
    { min: RESOURCES, max: RESOURCES },
  );
  const tarn = new TarnPool({
    create: () => ({}),
    destroy: () => undefined,
    min: RESOURCES,
    max: RESOURCES,
  });
  const results: Record<string, number> = {};
  try {
    for (let roundIndex = 0; roundIndex < 2; roundIndex++) {
      const figures: Record<string, number> = {
        aiomisc_pool_base: await pairsPerSecond(async () => {
          (await ours.acquire()).release();
        }, 1000),
        generic_pool: await pairsPerSecond(async () => {
          await generic.release(await generic.acquire());
        }, 1000),
        tarn: await pairsPerSecond(async () => {
          tarn.release(await tarn.acquire().promise);
        }, 1000),
      };
      for (const [name, value] of Object.entries(figures))
        results[name] = Math.max(results[name] ?? 0, value);
    }
  } finally {
    await ours.close();
    await generic.drain();
    await generic.clear();
    await tarn.destroy();
  }
  for (const [name, value] of Object.entries(results)) {
    report('pool.resources', name, {
      pairs_per_s: Math.round(value),
      ratio_vs_generic_pool: round(value / results.generic_pool!),
      ratio_vs_tarn: round(value / results.tarn!),
    });
  }
}
