import { performance } from 'node:perf_hooks';

/**
 * Runs `fn` sequentially for `durationMs` (after `warmupMs`) and returns calls per second.
 * @param {() => unknown | Promise<unknown>} fn
 * @param {{ durationMs?: number, warmupMs?: number }} [options]
 */
export async function opsPerSecond(fn, options = {}) {
  const { durationMs = 1000, warmupMs = 200 } = options;
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await fn();
  let calls = 0;
  const start = performance.now();
  const end = start + durationMs;
  // Check the clock every 64 calls so that reading it does not dominate trivial calls.
  for (;;) {
    for (let i = 0; i < 64; i++) await fn();
    calls += 64;
    if (performance.now() >= end) break;
  }
  return (calls * 1000) / (performance.now() - start);
}

/**
 * Awaits `fn` `count` times in a row and returns the p50 and p99 latency in microseconds.
 * @param {() => Promise<unknown>} fn
 * @param {number} count
 */
export async function latencyMicros(fn, count) {
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn();
    samples[i] = (performance.now() - t0) * 1000;
  }
  samples.sort();
  const at = (q) => samples[Math.min(count - 1, Math.floor(q * count))];
  return { p50_us: round(at(0.5)), p99_us: round(at(0.99)) };
}

/**
 * Keeps `inFlight` calls of `fn` running for `durationMs` and returns completed calls per second.
 * @param {() => Promise<unknown>} fn
 * @param {{ inFlight: number, durationMs?: number }} options
 */
export async function throughput(fn, options) {
  const { inFlight, durationMs = 2000 } = options;
  let done = 0;
  let running = true;
  const start = performance.now();
  const lane = async () => {
    while (running) {
      await fn();
      done++;
    }
  };
  const timer = setTimeout(() => (running = false), durationMs);
  await Promise.all(Array.from({ length: inFlight }, lane));
  clearTimeout(timer);
  return (done * 1000) / (performance.now() - start);
}

/** Rounds to 1 decimal for printing. @param {number} value */
export function round(value) {
  return Math.round(value * 10) / 10;
}

/**
 * Prints one JSON line per case: `{ bench, case, ...figures }`.
 * @param {string} bench
 * @param {string} name
 * @param {Record<string, unknown>} figures
 */
export function report(bench, name, figures) {
  console.log(JSON.stringify({ bench, case: name, ...figures }));
}
