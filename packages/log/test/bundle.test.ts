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

/** The banner of the README recipe: what an ESM bundle of pino needs, plus the worker paths. */
function banner(withOverrides: boolean): string {
  return [
    "import { createRequire as __bundleCreateRequire } from 'node:module';",
    "import { dirname as __bundleDirname, join as __bundleJoin } from 'node:path';",
    "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
    'const require = __bundleCreateRequire(import.meta.url);',
    'const __filename = __bundleFileURLToPath(import.meta.url);',
    'const __dirname = __bundleDirname(__filename);',
    withOverrides
      ? [
          'globalThis.__bundlerPathsOverrides = {',
          '  ...globalThis.__bundlerPathsOverrides,',
          "  'thread-stream-worker': __bundleJoin(__dirname, 'thread-stream-worker.mjs'),",
          "  '@aiomisc/log/transport': __bundleJoin(__dirname, 'aiomisc-log-transport.mjs'),",
          '};',
        ].join('\n')
      : '',
  ].join('\n');
}

async function bundle(withOverrides: boolean): Promise<string> {
  const source = temporaryDirectory();
  const out = temporaryDirectory();
  writeFileSync(join(source, 'app.ts'), app);
  await build({
    entryPoints: {
      app: join(source, 'app.ts'),
      'thread-stream-worker': createRequire(require.resolve('pino')).resolve(
        'thread-stream/lib/worker.js',
      ),
      'aiomisc-log-transport': join(packageDir, 'dist', 'transport.js'),
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outdir: out,
    outExtension: { '.js': '.mjs' },
    banner: { js: banner(withOverrides) },
    // the app resolves @aiomisc/log (and its dependencies) from this package
    nodePaths: [join(packageDir, 'node_modules'), dirname(packageDir)],
    alias: { '@aiomisc/log': join(packageDir, 'dist', 'index.js') },
    logLevel: 'silent',
  });
  return out;
}

/** The same app as a CommonJS bundle: no banner for require/__dirname, only the worker paths. */
async function bundleCommonJs(): Promise<string> {
  const source = temporaryDirectory();
  const out = temporaryDirectory();
  writeFileSync(join(source, 'app.ts'), app);
  await build({
    entryPoints: {
      app: join(source, 'app.ts'),
      'thread-stream-worker': createRequire(require.resolve('pino')).resolve(
        'thread-stream/lib/worker.js',
      ),
      'aiomisc-log-transport': join(packageDir, 'dist', 'transport.cjs'),
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outdir: out,
    outExtension: { '.js': '.cjs' },
    banner: {
      js: [
        'globalThis.__bundlerPathsOverrides = {',
        '  ...globalThis.__bundlerPathsOverrides,',
        "  'thread-stream-worker': require('node:path').join(__dirname, 'thread-stream-worker.cjs'),",
        "  '@aiomisc/log/transport': require('node:path').join(__dirname, 'aiomisc-log-transport.cjs'),",
        '};',
      ].join('\n'),
    },
    nodePaths: [join(packageDir, 'node_modules'), dirname(packageDir)],
    alias: { '@aiomisc/log': join(packageDir, 'dist', 'index.cjs') },
    logLevel: 'silent',
  });
  return out;
}

describe('an app bundled with esbuild', () => {
  it('as CommonJS, runs from a directory without node_modules and writes every buffered record', async () => {
    const out = await bundleCommonJs();
    const logFile = join(out, 'app.log');
    const result = spawnSync(process.execPath, [join(out, 'app.cjs'), logFile], {
      cwd: out,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(logFile, 'utf8').trimEnd().split('\n')).toHaveLength(count);
  }, 120_000);

  it('runs from a directory without node_modules and writes every buffered record', async () => {
    const out = await bundle(true);
    expect(existsSync(join(out, 'node_modules'))).toBe(false);
    const logFile = join(out, 'app.log');
    const result = spawnSync(process.execPath, [join(out, 'app.mjs'), logFile], {
      cwd: out,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(count);
    expect(new Set(lines.map((line) => (JSON.parse(line) as { i: number }).i)).size).toBe(count);
  }, 120_000);

  it('without the worker paths, fails with an error that says what to do', async () => {
    const out = await bundle(false);
    const result = spawnSync(process.execPath, [join(out, 'app.mjs'), join(out, 'app.log')], {
      cwd: out,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('the @aiomisc/log transport worker');
    expect(result.stderr).toContain("was not found; when bundling, emit '@aiomisc/log/transport'");
    expect(result.stderr).toContain('"Bundling" in the @aiomisc/log README');
  }, 120_000);
});
