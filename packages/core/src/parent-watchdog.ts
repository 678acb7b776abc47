import { Worker } from 'node:worker_threads';

/**
 * The watchdog thread's code: every `interval` ms it reads this process's parent pid (Linux:
 * /proc/self/stat; elsewhere: whether the parent still exists) and SIGKILLs this process once the
 * parent is gone.
 */
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { parent, interval } = workerData;
function parentGone() {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent;
    } catch {}
  }
  try { process.kill(parent, 0); return false; } catch (error) { return error.code === 'ESRCH'; }
}
setInterval(() => { if (parentGone()) process.kill(process.pid, 'SIGKILL'); }, interval);
`;

/**
 * Ends this (child) process when its parent `parent` dies, however it died (SIGKILL included),
 * even while user code keeps the main thread busy: a CPU-bound loop never lets an IPC
 * `'disconnect'` handler run, so the check runs in a small thread of its own. The thread is
 * unref'd (it never keeps the process alive) and a thread that cannot start is ignored: the
 * caller's own `'disconnect'` handling still holds. The child processes of `@aiomisc/pool` and
 * `@aiomisc/services` use it.
 *
 * @example
 * ```ts
 * import { exitWithParent } from '@aiomisc/core';
 *
 * if (process.send) exitWithParent(process.ppid); // in a forked child
 * ```
 */
export function exitWithParent(parent: number, options: { interval?: number } = {}): void {
  if (!Number.isInteger(parent) || parent <= 0) return;
  const watchdog = new Worker(WATCHDOG, {
    eval: true,
    workerData: { parent, interval: options.interval ?? 250 },
    // Nothing of the parent's flags is needed to read a file; keeps the thread small.
    execArgv: [],
    env: {},
    stdout: false,
    stderr: false,
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
  });
  watchdog.unref();
  watchdog.on('error', () => undefined);
}
