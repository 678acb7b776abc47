// Start and stop 1,000 trivial services through an entrypoint, and the same start()/stop()
// calls through a bare Promise.all, in one run. Then the cost a running PeriodicCallback puts
// on every other promise of the process (none: it installs no async hooks). Prints one JSON
// line per case and the ratio.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { report, round } from '@aiomisc/bench';
import { entrypoint, Service } from '../src/index';

const SERVICES = 1000;
const ROUNDS = 50;

class Trivial extends Service {
  async start() {}
  override async stop() {}
}

async function bare(services: Trivial[]) {
  await Promise.all(services.map((service) => service.start()));
  await Promise.all(services.map((service) => service.stop()));
}

async function throughEntrypoint(services: Trivial[]) {
  const ep = await entrypoint({
    services,
    catchSignals: [],
    plugins: false,
    logLevel: 'error',
  }).start();
  await ep.stop();
}

async function measure(fn: (services: Trivial[]) => Promise<void>) {
  const services = Array.from({ length: SERVICES }, () => new Trivial());
  for (let i = 0; i < 5; i++) await fn(services);
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn(services);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return {
    p50_ms: Math.round(samples[Math.floor(ROUNDS / 2)]! * 1000) / 1000,
    rounds_per_s: round(1000 / (samples.reduce((a, b) => a + b) / ROUNDS)),
  };
}

// Alternate the two so that neither gets a warmer machine.
const results = { bare: [] as number[], entrypoint: [] as number[] };
for (let block = 0; block < 3; block++) {
  results.bare.push((await measure(bare)).p50_ms);
  results.entrypoint.push((await measure(throughEntrypoint)).p50_ms);
}
const best = (values: number[]) => Math.min(...values);
report('core-lifecycle', `bare_promise_all_${SERVICES}_services`, { p50_ms: best(results.bare) });
report('core-lifecycle', `entrypoint_${SERVICES}_services`, {
  p50_ms: best(results.entrypoint),
  overhead_ratio: Math.round((best(results.entrypoint) / best(results.bare)) * 100) / 100,
});

/** ms for 2,000,000 awaits in a fresh process, with `WITH` running beside them. */
function awaitsMs(withWhat: 'none' | 'periodic' | 'als'): number {
  const child = fileURLToPath(new URL('./promise-tax-child.mjs', import.meta.url));
  const output = execFileSync(process.execPath, [child], {
    env: { ...process.env, WITH: withWhat },
    encoding: 'utf8',
  });
  return Number(output.trim());
}

const none = awaitsMs('none');
const periodic = awaitsMs('periodic');
const als = awaitsMs('als');
report('core-promise-tax', '2,000,000 awaits, nothing else running', { ms: none });
report('core-promise-tax', '2,000,000 awaits beside a running PeriodicCallback', {
  ms: periodic,
  ratio: round(periodic / none),
});
report('core-promise-tax', '2,000,000 awaits with an AsyncLocalStorage enabled (core before)', {
  ms: als,
  ratio: round(als / none),
});
