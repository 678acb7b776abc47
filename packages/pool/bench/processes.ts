import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import workerpool from 'workerpool';
import { WorkerPool } from '../dist/index.js';
import { inc } from './jobs.mjs';
import { measure, print } from './common';

const require = createRequire(import.meta.url);
const workerpoolTask = require.resolve('./workerpool-task.cjs');
const forkChild = fileURLToPath(new URL('./fork-child.cjs', import.meta.url));
const PROCESSES = 2;

/** A minimal fork pool, one task per process at a time (the shape WorkerPool must keep). */
class MinimalForkPool {
  readonly #idle: ChildProcess[] = [];
  readonly #children: ChildProcess[] = [];
  readonly #queue: Array<[number, (value: number) => void]> = [];
  readonly #pending = new Map<number, (value: number) => void>();
  #id = 0;

  constructor(size: number) {
    for (let index = 0; index < size; index++) {
      const child = fork(forkChild, [], { stdio: 'ignore', serialization: 'json' });
      child.on('message', ([id, value]: [number, number]) => {
        const resolve = this.#pending.get(id)!;
        this.#pending.delete(id);
        const next = this.#queue.shift();
        if (next) this.#send(child, next);
        else this.#idle.push(child);
        resolve(value);
      });
      this.#children.push(child);
      this.#idle.push(child);
    }
  }

  run(x: number): Promise<number> {
    return new Promise((resolve) => {
      const child = this.#idle.pop();
      if (child) this.#send(child, [x, resolve]);
      else this.#queue.push([x, resolve]);
    });
  }

  #send(child: ChildProcess, [x, resolve]: [number, (value: number) => void]): void {
    const id = this.#id++;
    this.#pending.set(id, resolve);
    child.send([id, x]);
  }

  close(): void {
    for (const child of this.#children) child.kill();
  }
}

/** Trivial task round trip on 2 child processes. */
export async function benchProcesses(): Promise<void> {
  const ours = new WorkerPool(PROCESSES);
  await ours.start();
  const minimal = new MinimalForkPool(PROCESSES);
  const wpool = workerpool.pool(workerpoolTask, {
    minWorkers: PROCESSES,
    maxWorkers: PROCESSES,
    workerType: 'process',
  });
  try {
    const figures = await measure(
      [
        { name: 'aiomisc_worker_pool', call: () => ours.createTask<number>(inc, 1) },
        { name: 'minimal_fork_1_per_worker', call: () => minimal.run(1) },
        { name: 'workerpool_process', call: () => wpool.exec('inc', [1]) },
      ],
      { calls: 1000, rounds: 3, durationMs: 2000 },
    );
    print('pool.processes', figures, 'workerpool_process');
  } finally {
    minimal.close();
    await Promise.all([ours.close(), wpool.terminate()]);
  }
}
