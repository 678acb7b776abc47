import { latencyMicros } from '@aiomisc/bench';
import { Piscina } from 'piscina';
import { ThreadPoolExecutor } from '../dist/index.js';
import { inc } from './jobs.mjs';
const ours = new ThreadPoolExecutor(2);
const piscina = new Piscina({ filename: new URL('./peer-task.cjs', import.meta.url).pathname, minThreads: 2, maxThreads: 2 });
const a = () => inc.callWith({ pool: ours }, 1);
const b = () => piscina.run(1) as Promise<number>;
for (let i = 0; i < 500; i++) { await a(); await b(); }
for (let r = 0; r < 4; r++) {
  const t0 = performance.now();
  const x = await latencyMicros(a, 1000);
  const t1 = performance.now();
  const y = await latencyMicros(b, 1000);
  console.log('ours', x, 'piscina', y, Math.round(t1 - t0), Math.round(performance.now() - t1));
}
await ours.close(); await piscina.destroy();
console.log('closed');
