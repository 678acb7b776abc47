// Start and stop 1,000 trivial services through an entrypoint, and the same start()/stop()
// calls through a bare Promise.all, in one run. Prints one JSON line per case and the ratio.
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
