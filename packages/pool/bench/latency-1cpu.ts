import { latencyMicros, report, round } from '@aiomisc/bench';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ThreadPoolExecutor } from '../dist/index.js';
import { inc } from './jobs.mjs';

// Sequential latency with the whole process pinned to one CPU (run under `taskset -c 0`):
// on this VM, unpinned figures move with vCPU wake-ups more than with the library.
const peerTask = fileURLToPath(new URL('./peer-task.cjs', import.meta.url));
const ours = new ThreadPoolExecutor(2);
const piscina = new Piscina({ filename: peerTask, minThreads: 2, maxThreads: 2 });
const cases: Record<string, () => Promise<unknown>> = {
  aiomisc_threaded: () => inc.callWith({ pool: ours }, 1),
  piscina: () => piscina.run(1) as Promise<unknown>,
};
const samples: Record<string, number[]> = { aiomisc_threaded: [], piscina: [] };
const tails: Record<string, number[]> = { aiomisc_threaded: [], piscina: [] };
for (const call of Object.values(cases)) for (let index = 0; index < 2000; index++) await call();
for (let block = 0; block < 7; block++) {
  for (const [name, call] of Object.entries(cases)) {
    const { p50_us, p99_us } = await latencyMicros(call, 1000);
    samples[name]!.push(p50_us);
    tails[name]!.push(p99_us);
  }
}
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const base = median(samples.piscina!);
for (const name of Object.keys(cases)) {
  const p50 = median(samples[name]!);
  report('pool.threads.1cpu', name, {
    p50_us: p50,
    p99_us: median(tails[name]!),
    p50_ratio_vs_piscina: round(p50 / base),
  });
}
await Promise.all([ours.close(), piscina.destroy()]);
