// Run by bench/index.ts in a fresh process: times 2,000,000 awaits of an async function (the
// best of 3) while a PeriodicCallback ticks every 10 ms (WITH=periodic), with nothing else
// (WITH=none), or with an AsyncLocalStorage enabled (WITH=als, what core used before), and
// prints the milliseconds. A process of its own each, because promise hooks, once installed,
// stay for the life of the process.
import { AsyncLocalStorage } from 'node:async_hooks';
import { PeriodicCallback } from '@aiomisc/core';

const AWAITS = 2_000_000;
async function leaf(value) {
  return value;
}
async function work() {
  let sum = 0;
  for (let index = 0; index < AWAITS; index++) sum += await leaf(index);
  return sum;
}

let periodic;
if (process.env.WITH === 'periodic') {
  periodic = new PeriodicCallback(async () => undefined, { name: 'tick' });
  periodic.start(10);
  await new Promise((resolve) => setTimeout(resolve, 50)); // a few runs, and a self-stop path
}
if (process.env.WITH === 'als') new AsyncLocalStorage().run(1, () => undefined);
let best = Infinity;
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  await work();
  best = Math.min(best, performance.now() - t0);
}
await periodic?.stop();
process.stdout.write(`${best.toFixed(1)}\n`);
