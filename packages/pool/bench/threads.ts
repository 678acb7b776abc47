import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { ThreadPoolExecutor } from '../dist/index.js';
import { inc } from './jobs.mjs';
import { measure, print } from './common';

const require = createRequire(import.meta.url);
const peerTask = fileURLToPath(new URL('./peer-task.cjs', import.meta.url));
const workerpoolTask = require.resolve('./workerpool-task.cjs');
const THREADS = 2;

/** Trivial task round trip on 2 threads: ours (pipelined dispatch) vs the peers' defaults. */
export async function benchThreads(): Promise<void> {
  const ours = new ThreadPoolExecutor(THREADS);
  const piscina = new Piscina({ filename: peerTask, minThreads: THREADS, maxThreads: THREADS });
  const tinypool = new Tinypool({ filename: peerTask, minThreads: THREADS, maxThreads: THREADS });
  const wpool = workerpool.pool(workerpoolTask, {
    minWorkers: THREADS,
    maxWorkers: THREADS,
    workerType: 'thread',
  });
  try {
    const figures = await measure(
      [
        { name: 'aiomisc_threaded', call: () => inc.callWith({ pool: ours }, 1) },
        { name: 'piscina', call: () => piscina.run(1) as Promise<number> },
        { name: 'tinypool', call: () => tinypool.run(1) as Promise<number> },
        { name: 'workerpool', call: () => wpool.exec('inc', [1]) },
      ],
      { calls: 1000, rounds: 5, durationMs: 2000 },
    );
    print('pool.threads', figures, 'piscina');
  } finally {
    await Promise.all([ours.close(), piscina.destroy(), tinypool.destroy(), wpool.terminate()]);
  }
}
