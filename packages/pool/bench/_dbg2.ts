import { latencyMicros } from '@aiomisc/bench';
import { Piscina } from 'piscina';
import { ThreadPoolExecutor } from '../dist/index.js';
import { inc } from './jobs.mjs';
const ours = new ThreadPoolExecutor(2);
const url = inc.reference.moduleUrl;
const raw = new Piscina({ filename: new URL('../dist/worker.js', import.meta.url).pathname, name: 'handleTask', minThreads: 2, maxThreads: 2 });
const piscina = new Piscina({ filename: new URL('./peer-task.cjs', import.meta.url).pathname, minThreads: 2, maxThreads: 2 });
const cases: Record<string, () => Promise<unknown>> = {
  wrapper: () => inc.callWith({ pool: ours }, 1),
  run: () => ours.run(url, 'inc', [1]),
  rawBatch: () => raw.run({ b: [[1, url, 'inc', [1], undefined]] }),
  piscina: () => piscina.run(1),
};
for (const f of Object.values(cases)) for (let i = 0; i < 2000; i++) await f();
for (let r = 0; r < 3; r++) {
  const out: Record<string, number> = {};
  for (const [k, f] of Object.entries(cases)) out[k] = (await latencyMicros(f, 2000)).p50_us;
  console.log(out);
}
await ours.close(); await piscina.destroy(); await raw.destroy();
