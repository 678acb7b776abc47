// An app bundled with esbuild (the README's "Bundling" recipe) and run from a temporary
// directory outside the workspace, where no node_modules can be found: buffered logging must
// find its transport worker through the documented override, or fail with an error that says
// what to do.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { transportEntryPoints } from '../src/index';
import { temporaryDirectory } from './helpers';

const packageDir = join(import.meta.dirname, '..');
const require = createRequire(join(packageDir, 'package.json'));
const count = 10_000;
/** A plain environment: nothing of this test runner (NODE_OPTIONS, loaders) reaches the app. */
const env = { PATH: process.env.PATH, HOME: process.env.HOME };

const app = `
import { basicConfig, getLogger } from '@aiomisc/log';

basicConfig({ logFormat: 'json', buffered: true, destination: process.argv[2] });
const log = getLogger('bundled');
for (let i = 0; i < ${count}; i++) log.info({ i }, 'record');
`;

/**
 * The banner an ESM bundle of pino needs (require, __filename, __dirname), plus the given
 * `__bundlerPathsOverrides` (key → file in the output folder).
 */
function banner(overrides: Record<string, string> | null): string {
  return [
    "import { createRequire as __bundleCreateRequire } from 'node:module';",
    "import { dirname as __bundleDirname, join as __bundleJoin } from 'node:path';",
    "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
    'const require = __bundleCreateRequire(import.meta.url);',
    'const __filename = __bundleFileURLToPath(import.meta.url);',
    'const __dirname = __bundleDirname(__filename);',
    overrides
      ? [
          'globalThis.__bundlerPathsOverrides = {',
          '  ...globalThis.__bundlerPathsOverrides,',
          ...Object.entries(overrides).map(
            ([key, file]) => `  '${key}': __bundleJoin(__dirname, '${file}'),`,
          ),
          '};',
        ].join('\n')
      : '',
  ].join('\n');
}

const threadStreamWorker = (): string =>
  createRequire(require.resolve('pino')).resolve('thread-stream/lib/worker.js');

async function bundle(
  entries: Record<string, string>,
  overrides: Record<string, string> | null,
): Promise<string> {
  const source = temporaryDirectory();
  const out = temporaryDirectory();
  writeFileSync(join(source, 'app.ts'), app);
  await build({
    entryPoints: { app: join(source, 'app.ts'), ...entries },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outdir: out,
    outExtension: { '.js': '.mjs' },
    banner: { js: banner(overrides) },
    // the app resolves @aiomisc/log (and its dependencies) from this package
    nodePaths: [join(packageDir, 'node_modules'), dirname(packageDir)],
    alias: { '@aiomisc/log': join(packageDir, 'dist', 'index.js') },
    logLevel: 'silent',
  });
  return out;
}

function runBundled(
  out: string,
  main: string,
): { status: number | null; stderr: string; lines: string[] } {
  const logFile = join(out, 'app.log');
  const result = spawnSync(process.execPath, [join(out, main), logFile], {
    cwd: out,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').trimEnd().split('\n') : [];
  return { status: result.status, stderr: result.stderr, lines };
}

/** The same app as a CommonJS bundle: no banner at all, the workers next to it by their names. */
async function bundleCommonJs(): Promise<string> {
  const source = temporaryDirectory();
  const out = temporaryDirectory();
  writeFileSync(join(source, 'app.ts'), app);
  await build({
    entryPoints: { app: join(source, 'app.ts'), ...transportEntryPoints() },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outdir: out,
    outExtension: { '.js': '.cjs' },
    nodePaths: [join(packageDir, 'node_modules'), dirname(packageDir)],
    alias: { '@aiomisc/log': join(packageDir, 'dist', 'index.cjs') },
    logLevel: 'silent',
  });
  return out;
}

describe('an app bundled with esbuild', () => {
  it('as CommonJS with transportEntryPoints() and no banner, writes every buffered record', async () => {
    const run = runBundled(await bundleCommonJs(), 'app.cjs');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.lines).toHaveLength(count);
  }, 120_000);

  it('with transportEntryPoints(), finds both workers next to the bundle by itself', async () => {
    const out = await bundle(transportEntryPoints(), null);
    expect(existsSync(join(out, 'node_modules'))).toBe(false);
    const run = runBundled(out, 'app.mjs');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.lines).toHaveLength(count);
    expect(new Set(run.lines.map((line) => (JSON.parse(line) as { i: number }).i)).size).toBe(
      count,
    );
  }, 120_000);

  it('with the worker files elsewhere, finds them through __bundlerPathsOverrides', async () => {
    const out = await bundle(
      {
        'workers/ts': threadStreamWorker(),
        'workers/log': join(packageDir, 'dist', 'transport.js'),
      },
      { 'thread-stream-worker': 'workers/ts.mjs', '@aiomisc/log/transport': 'workers/log.mjs' },
    );
    const run = runBundled(out, 'app.mjs');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.lines).toHaveLength(count);
  }, 120_000);

  it('without the worker files, fails with an error that says what to do', async () => {
    const out = await bundle({}, null);
    const run = runBundled(out, 'app.mjs');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('the @aiomisc/log transport worker was not found (looked for ');
    expect(run.stderr).toContain('when bundling, add transportEntryPoints() from @aiomisc/log');
    expect(run.stderr).toContain('"Bundling" in the @aiomisc/log README');
  }, 120_000);
});
