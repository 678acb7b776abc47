import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const app = fileURLToPath(new URL('./fixtures/bundle-app/', import.meta.url));
const made: string[] = [];

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** The banner an ESM bundle needs for the CommonJS code in it (piscina, pino), and the log
 * package's worker paths (its README's recipe, with this bundle's .js names). */
const BANNER = [
  "import { createRequire as __aiomiscCreateRequire } from 'node:module';",
  "import { fileURLToPath as __aiomiscFileURLToPath } from 'node:url';",
  "import { dirname as __aiomiscDirname } from 'node:path';",
  'const require = __aiomiscCreateRequire(import.meta.url);',
  'const __filename = __aiomiscFileURLToPath(import.meta.url);',
  'const __dirname = __aiomiscDirname(__filename);',
  'globalThis.__bundlerPathsOverrides = {',
  '  ...globalThis.__bundlerPathsOverrides,',
  "  'thread-stream-worker': __aiomiscDirname(__filename) + '/thread-stream-worker.js',",
  "  '@aiomisc/log/transport': __aiomiscDirname(__filename) + '/aiomisc-log-transport.js',",
  '};',
].join('\n');

/** The entries of @aiomisc/log's recipe: pino's thread-stream worker and its transport. */
function logEntryPoints(): Record<string, string> {
  const require = createRequire(import.meta.url);
  return {
    'thread-stream-worker': createRequire(require.resolve('@aiomisc/log')).resolve(
      'thread-stream/lib/worker.js',
    ),
    'aiomisc-log-transport': require.resolve('@aiomisc/log/transport'),
  };
}

/** The package as the tests build it (test/dist), where an app would resolve '@aiomisc/pool'. */
function testBuild(): string {
  return join(process.env.AIOMISC_POOL_WORKER_DIR!, 'index.js');
}

const usePoolBuild: Plugin = {
  name: 'aiomisc-pool-test-build',
  setup(builder) {
    builder.onResolve({ filter: /^@aiomisc\/pool$/ }, () => ({ path: testBuild() }));
  },
};

/** Bundles the app into a fresh folder outside the workspace; returns that folder. */
async function bundle(options: BuildOptions): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'aiomisc-bundle-'));
  made.push(outdir);
  await build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outdir,
    banner: { js: BANNER },
    // piscina's optional native helper (thread priorities), loaded only when installed.
    external: ['@napi-rs/nice'],
    logLevel: 'silent',
    plugins: [usePoolBuild],
    ...options,
  });
  writeFileSync(join(outdir, 'package.json'), '{ "type": "module" }\n');
  return outdir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node main.js` in `dir`, with nothing of the workspace around (no worker dir set). */
function run(dir: string, logFile = join(dir, 'app.log')): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.AIOMISC_POOL_WORKER_DIR;
    const child = spawn(process.execPath, ['main.js', logFile], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function workerEntryPoints(): Promise<Record<string, string>> {
  const pool = (await import(testBuild())) as { workerEntryPoints(): Record<string, string> };
  return pool.workerEntryPoints();
}

describe('an app bundled with esbuild', () => {
  it('runs its threads and processes from a folder outside the workspace', async () => {
    const dir = await bundle({
      entryPoints: {
        main: join(app, 'main.ts'),
        jobs: join(app, 'jobs.ts'),
        ...(await workerEntryPoints()),
        ...logEntryPoints(),
      },
      splitting: true,
    });
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    const result = await run(dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    // The workers ran the jobs module only, never the app's main.
    expect(lines.filter((line) => line.startsWith('main started'))).toHaveLength(1);
    const output = JSON.parse(lines.at(-1)!) as {
      digests: string[];
      tasks: Array<{ doubled: number; pid: number }>;
      submitted: { doubled: number; pid: number };
      workerPids: number[];
      main: number;
    };
    expect(output.digests).toEqual(
      ['a', 'b', 'c'].map((value) => createHash('sha256').update(value).digest('hex')),
    );
    expect(output.tasks.map((task) => task.doubled)).toEqual([2, 4, 6]);
    for (const task of output.tasks) expect(output.workerPids).toContain(task.pid);
    expect(output.submitted.doubled).toBe(42);
    expect(output.submitted.pid).not.toBe(output.main);
    // Buffered logging wrote every record through its transport worker before the exit.
    const records = readFileSync(join(dir, 'app.log'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; index: number; pid: number });
    expect(records.filter((record) => record.msg === 'task done').map((r) => r.index)).toEqual([
      0, 1, 2,
    ]);
  });

  it('says which worker file is missing, and what to do, when the worker entries were left out', async () => {
    const dir = await bundle({
      entryPoints: { main: join(app, 'main.ts'), jobs: join(app, 'jobs.ts'), ...logEntryPoints() },
      splitting: true,
    });
    const result = await run(dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/worker file .*aiomisc-pool-(process-)?worker\.js was not found/);
    expect(result.stderr).toMatch(/when bundling, add workerEntryPoints\(\)/);
  });

  it('refuses threaded functions bundled into the entry file (the workers would run the app)', async () => {
    const dir = await bundle({
      entryPoints: {
        main: join(app, 'main.ts'),
        ...(await workerEntryPoints()),
        ...logEntryPoints(),
      },
      splitting: false,
    });
    const result = await run(dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/bundled into the app's entry file/);
    // It failed at once, in the parent: no worker ran main.
    expect(result.stdout).not.toMatch(/main started/);
  });
});
