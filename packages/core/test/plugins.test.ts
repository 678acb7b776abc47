import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Entrypoint, entrypoint, loadPlugins, Service } from '../src/index';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cli = join(packageDir, 'dist', 'cli.js');
let app: string;

beforeAll(() => {
  // A throwaway application that depends on the fixture plugin package.
  app = mkdtempSync(join(tmpdir(), 'aiomisc-plugins-'));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, dependencies: { 'fixture-plugin': '1.0.0' } }),
  );
  mkdirSync(join(app, 'node_modules', '@aiomisc'), { recursive: true });
  cpSync(
    fileURLToPath(new URL('./fixtures/plugin-package', import.meta.url)),
    join(app, 'node_modules', 'fixture-plugin'),
    {
      recursive: true,
    },
  );
  symlinkSync(packageDir, join(app, 'node_modules', '@aiomisc', 'core'));
});

afterAll(() => rmSync(app, { recursive: true, force: true }));

function runCli(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [cli, ...args], { cwd: app, env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('plugins', () => {
  it('finds a plugin declared by a dependency and runs its receiver', async () => {
    const plugins = await loadPlugins(app);
    expect(plugins.map((plugin) => [plugin.name, plugin.packageName, plugin.description])).toEqual([
      ['greeter', 'fixture-plugin', 'Greets every entrypoint'],
    ]);
    expect(await loadPlugins(app)).toBe(plugins);
    class Noop extends Service {
      async start() {}
    }
    const ep = await entrypoint({
      services: [new Noop()],
      catchSignals: [],
      plugins: false,
    }).start();
    await expect(ep.context.get('greeting')).resolves.toBe('hello from the plugin to 1 services');
    await ep.stop();
    Entrypoint.PRE_START.disconnect(plugins[0]!.module.greet as () => void);
  });
});

describe('plugins of an application started from elsewhere', () => {
  it("are found from the main script's directory", async () => {
    writeFileSync(
      join(app, 'main.mjs'),
      [
        "import { entrypoint } from '@aiomisc/core';",
        'const ep = await entrypoint({ catchSignals: [], logLevel: "error" }).start();',
        "console.log(await ep.context.get('greeting'));",
        'await ep.stop();',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, [join(app, 'main.mjs')], { cwd: tmpdir() });
    expect(stdout.trim()).toBe('hello from the plugin to 0 services');
  });
});

describe('aiomisc-plugins', () => {
  it('prints plugin names and logs their descriptions', async () => {
    const { stdout, stderr } = await runCli([]);
    expect(stdout).toBe('greeter\n');
    expect(stderr).toContain('Plugin greeter from fixture-plugin: Greets every entrypoint');
  });

  it('prints nothing with -n and logs nothing with -q', async () => {
    expect((await runCli(['-n'])).stdout).toBe('');
    const quiet = await runCli(['-q']);
    expect(quiet.stdout).toBe('greeter\n');
    expect(quiet.stderr).toBe('');
    expect((await runCli(['--silent', '--no-output'])).stderr).toBe('');
  });

  it('honours -l and -F', async () => {
    expect((await runCli(['-l', 'error'])).stderr).toBe('');
    const json = await runCli(['-F', 'json', '-n']);
    const line = json.stderr.split('\n').find((entry) => entry.includes('greeter'));
    expect(JSON.parse(line!)).toMatchObject({ level: 'info', name: 'aiomisc.plugins' });
  });

  it('rejects an unknown format or level, naming it', async () => {
    const bad = await runCli(['-F', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be one of');
    expect(bad.stderr).toContain('"xml"');
    expect((await runCli(['-l', 'loud'])).code).toBe(2);
  });

  it('loads nothing when AIOMISC_NO_PLUGINS is set', async () => {
    expect((await runCli([], { AIOMISC_NO_PLUGINS: '1' })).stdout).toBe('');
  });
});
