import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDirectory } from './helpers';

const packageDir = join(import.meta.dirname, '..');

/** An app that depends on @aiomisc/log and never imports it: only the core plugin can wire it. */
function makeApp(): string {
  const app = temporaryDirectory();
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'plugin-app',
      type: 'module',
      dependencies: { '@aiomisc/core': '*', '@aiomisc/log': '*' },
    }),
  );
  mkdirSync(join(app, 'node_modules', '@aiomisc'), { recursive: true });
  symlinkSync(packageDir, join(app, 'node_modules', '@aiomisc', 'log'));
  symlinkSync(
    realpathSync(join(packageDir, 'node_modules', '@aiomisc', 'core')),
    join(app, 'node_modules', '@aiomisc', 'core'),
  );
  writeFileSync(
    join(app, 'main.mjs'),
    [
      "import { entrypoint, getLogger } from '@aiomisc/core';",
      "const ep = await entrypoint({ logFormat: 'journald', logLevel: 'info', catchSignals: [] }).start();",
      "getLogger('app').info('configured by the plugin');",
      'await ep.stop();',
    ].join('\n'),
  );
  return app;
}

describe('core plugin', () => {
  it('is declared in package.json and shipped', () => {
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      aiomisc: { plugins: Record<string, string> };
      files: string[];
    };
    expect(pkg.aiomisc.plugins).toEqual({ log: './dist/plugin.js' });
    expect(pkg.files).toContain('dist');
  });

  it('configures logging for an app that only depends on @aiomisc/log', async () => {
    const app = makeApp();
    const child = spawn(process.execPath, ['main.mjs'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AIOMISC_NO_PLUGINS: '', JOURNAL_STREAM: undefined },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(code).toBe(0);
    expect(stderr.split('\n')).toContain('<6>app: configured by the plugin');
  }, 30_000);
});
