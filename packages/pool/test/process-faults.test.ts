import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { entrypoint, InvalidArgumentError } from '@aiomisc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { inheritedExecArgv } from '../src/exec-argv';
import { catchSync, caught, ProcessPoolExecutor, WorkerExitedError, WorkerPool } from './helpers';

const jobsUrl = new URL('./fixtures/esm-jobs.mjs', import.meta.url).href;
const ref = (name: string) => ({ moduleUrl: jobsUrl, name });
const workerDir = (): string => process.env.AIOMISC_POOL_WORKER_DIR!;
const distIndex = (): string => `${workerDir()}/index.js`;

/** Gone: no such process, or a zombie nobody reaped yet (it runs nothing). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs node with `args` in its own process group; kills the whole group after `timeoutMs`. */
function runNode(args: string[], timeoutMs = 20_000, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const groups: number[] = [];
afterEach(() => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('children of a `node -e` / `node -p` parent', () => {
  // Counts the script's descendants (by ppid), so that a fork bomb shows as a large number.
  const script = (index: string, jobs: string) => `
    const { execFileSync } = require('node:child_process');
    function descendants(root) {
      const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,comm=']).toString().trim().split('\\n')
        .map((line) => line.trim().split(/\\s+/)).filter((row) => row[2] !== 'ps').map((row) => row.map(Number));
      const found = new Set([root]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const [pid, ppid] of rows) if (found.has(ppid) && !found.has(pid)) { found.add(pid); grew = true; }
      }
      return found.size - 1;
    }
    import(${JSON.stringify(index)}).then(async ({ WorkerPool, ProcessPoolExecutor }) => {
      const pool = new WorkerPool(2);
      const executor = new ProcessPoolExecutor(2);
      const ref = { moduleUrl: ${JSON.stringify(jobs)}, name: 'whoAmI' };
      const pids = await Promise.all([pool.createTask(ref), executor.submit(ref)]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const count = descendants(process.pid);
      await Promise.all([pool.close(), executor.close()]);
      process.stdout.write('RESULT ' + JSON.stringify({ count, pids, own: process.pid }) + '\\n');
    });
  `;

  for (const flag of ['-e', '--eval', '-p', '--print']) {
    it(`forks exactly the pool's processes, which run the worker (${flag})`, async () => {
      const run = await runNode(['--no-warnings', flag, script(distIndex(), jobsUrl)]);
      const json = /^RESULT (.*)$/m.exec(run.stdout)?.[1] ?? run.stdout;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const result = JSON.parse(json) as { count: number; pids: number[]; own: number };
      expect(result.count).toBe(4);
      expect(result.pids).not.toContain(result.own);
    });
  }

  it('strips eval/print flags and moves --inspect* to port 0 in inherited flags', () => {
    expect(inheritedExecArgv(['-e', 'code', '--max-old-space-size=64'])).toEqual([
      '--max-old-space-size=64',
    ]);
    expect(inheritedExecArgv(['--input-type=module', '--eval', 'x', '--import', 'tsx'])).toEqual([
      '--import',
      'tsx',
    ]);
    expect(
      inheritedExecArgv(['-pe', 'x', '-i', '-c', '--print=x', '--input-type', 'module']),
    ).toEqual([]);
    expect(
      inheritedExecArgv(['--inspect', '--inspect-brk=9229', '--inspect-wait=127.0.0.1:9230']),
    ).toEqual(['--inspect=0', '--inspect=0', '--inspect=127.0.0.1:0']);
    expect(inheritedExecArgv(['--inspect-port=9229', '--inspect-port', '1', '-r', 'x'])).toEqual([
      '-r',
      'x',
    ]);
  });

  it('takes given execArgv as they are, and refuses a string', async () => {
    const error = catchSync(() => new WorkerPool(1, { execArgv: '--import tsx' as never }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('execArgv');
    expect((error as Error).message).toMatch(/execArgv must be an array of strings/);
    expect(
      InvalidArgumentError.isInstance(
        catchSync(() => new ProcessPoolExecutor(1, { execArgv: ['--x', 1] as never })),
      ),
    ).toBe(true);
    await using pool = new WorkerPool(1, { execArgv: ['--max-old-space-size=64'] });
    await expect(pool.createTask(ref('whoAmI'))).resolves.toBe(pool.pids[0]);
  });
});

describe('the process worker', () => {
  it('refuses to run when started by hand', async () => {
    const run = await runNode([`${workerDir()}/aiomisc-pool-process-worker.js`], 10_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/process worker of @aiomisc\/pool/);
  });

  it('refuses to run when forked without the pool marker', async () => {
    const child = fork(`${workerDir()}/aiomisc-pool-process-worker.js`, [], { stdio: 'pipe' });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const messages: unknown[] = [];
    child.on('message', (message) => messages.push(message));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(messages).toEqual([]);
    expect(stderr).toMatch(/WorkerPool and ProcessPoolExecutor fork it/);
  });

  it('dies with its parent even while a CPU-bound task blocks it (parent SIGKILLed)', async () => {
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { WorkerPool } from ${JSON.stringify(distIndex())};
         const pool = new WorkerPool(1);
         await pool.start();
         void pool.createTask({ moduleUrl: ${JSON.stringify(jobsUrl)}, name: 'spinForever' });
         setTimeout(() => process.stdout.write(String(pool.pids[0]) + '\\n'), 300);
         setInterval(() => undefined, 1000);`,
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    groups.push(parent.pid!);
    const childPid = await new Promise<number>((resolve) =>
      parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    expect(Number.isInteger(childPid) && childPid > 0).toBe(true);
    expect(isGone(childPid)).toBe(false);
    parent.kill('SIGKILL');
    expect(await waitUntil(() => isGone(childPid), 5_000)).toBe(true);
  });
});

describe('process pool dispatch', () => {
  it('spreads the first tasks of a fresh pool over all its processes', async () => {
    // The seed's example: four sleeping tasks on four fresh processes run in four pids at once.
    // (Long tasks: on a loaded machine the last process may become ready a second or more
    // after the first, which must not make the first take a second task.)
    await using executor = new ProcessPoolExecutor(4);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        executor.submit<{ pid: number; start: number; end: number }>(ref('interval'), [2500]),
      ),
    );
    expect(new Set(runs.map((run) => run.pid)).size).toBe(4);
    expect(Math.max(...runs.map((run) => run.start))).toBeLessThan(
      Math.min(...runs.map((run) => run.end)),
    );
  });

  it('gives each process of a started pool one of its first tasks', async () => {
    await using pool = await new WorkerPool(4).start();
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        pool.createTask<{ pid: number; start: number; end: number }>(ref('interval'), 300),
      ),
    );
    expect(new Set(runs.map((run) => run.pid)).size).toBe(4);
  });

  it('requeues the tasks sent ahead to processes that died (no raw EPIPE)', async () => {
    for (let round = 0; round < 3; round++) {
      const pool = new WorkerPool(2);
      await pool.start();
      const exits = [0, 0].map((code) => caught(pool.createTask(ref('exitProcess'), code)));
      const innocent = Array.from({ length: 12 }, () => pool.createTask<number>(ref('whoAmI')));
      for (const exit of exits) expect(await exit).toBeInstanceOf(WorkerExitedError);
      const pids = await Promise.all(innocent);
      expect(pids.every((pid) => Number.isInteger(pid))).toBe(true);
      await pool.close();
    }
  });
});

describe('non-cloneable task arguments', () => {
  it('reject that task alone, on an idle and on a busy pool', async () => {
    await using pool = new WorkerPool(1, { statisticName: 'wp-clone' });
    await pool.start();
    const idle = await caught(pool.createTask(ref('multiply'), { cb() {} }, 1));
    expect(idle).toBeInstanceOf(TypeError);
    expect(idle.message).toMatch(/cannot be sent to a worker process/);
    const busy = Array.from({ length: 5 }, (_, index) =>
      pool.createTask<{ product: number }>(ref('multiply'), index, 3),
    );
    const bad = pool.createTask(ref('multiply'), { cb() {} }, 1);
    const after = pool.createTask<{ product: number }>(ref('multiply'), 7, 3);
    expect((await caught(bad)).message).toMatch(/cannot be sent/);
    expect((await Promise.all(busy)).map((result) => result.product)).toEqual([0, 3, 6, 9, 12]);
    expect((await after).product).toBe(21);
  });

  it('leave the parent running and exiting normally', async () => {
    const run = await runNode(
      [
        '--input-type=module',
        '-e',
        `import { WorkerPool, ProcessPoolExecutor } from ${JSON.stringify(distIndex())};
         const ref = { moduleUrl: ${JSON.stringify(jobsUrl)}, name: 'interval' };
         const pool = new WorkerPool(1);
         const executor = new ProcessPoolExecutor(1);
         const busy = [pool.createTask(ref, 50), pool.createTask(ref, 50)];
         const errors = await Promise.allSettled([
           pool.createTask(ref, { cb() {} }),
           executor.submit(ref, [{ cb() {} }]),
         ]);
         await Promise.all(busy);
         console.log(errors.map((error) => error.status).join(','));`,
      ],
      15_000,
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('rejected,rejected');
    expect(run.code).toBe(0);
  });
});

describe('AIOMISC_POOL_SIZE', () => {
  it('is checked at entrypoint construction, naming the variable', () => {
    const env = process.env.AIOMISC_POOL_SIZE;
    process.env.AIOMISC_POOL_SIZE = '100000';
    try {
      const error = catchSync(() => entrypoint({ plugins: false }));
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe('AIOMISC_POOL_SIZE');
      expect((error as Error).message).toMatch(/AIOMISC_POOL_SIZE must be .*<= 1024.*100000/);
    } finally {
      if (env === undefined) delete process.env.AIOMISC_POOL_SIZE;
      else process.env.AIOMISC_POOL_SIZE = env;
    }
  });
});
