// pino-pretty is an optional peer dependency: an install without it works for every format but
// rich and rich_tb, which fail with an error that names the package to install.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDirectory } from './helpers';

const packageDir = join(import.meta.dirname, '..');

/** An app whose node_modules has @aiomisc/log (copied), pino and @aiomisc/core, and no pino-pretty. */
function installWithoutPinoPretty(): string {
  const app = temporaryDirectory();
  const log = join(app, 'node_modules', '@aiomisc', 'log');
  mkdirSync(log, { recursive: true });
  cpSync(join(packageDir, 'dist'), join(log, 'dist'), { recursive: true });
  cpSync(join(packageDir, 'package.json'), join(log, 'package.json'));
  symlinkSync(
    realpathSync(join(packageDir, 'node_modules', 'pino')),
    join(app, 'node_modules', 'pino'),
  );
  symlinkSync(
    realpathSync(join(packageDir, 'node_modules', '@aiomisc', 'core')),
    join(app, 'node_modules', '@aiomisc', 'core'),
  );
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'no-pretty-app', type: 'module', private: true }),
  );
  writeFileSync(
    join(app, 'main.mjs'),
    [
      "import { basicConfig, flush, getLogger } from '@aiomisc/log';",
      "for (const logFormat of ['json', 'stream', 'plain']) {",
      '  for (const buffered of [false, true]) {',
      '    basicConfig({ logFormat, buffered });',
      "    getLogger('app').info(`${logFormat} buffered=${buffered} works`);",
      '    await flush();',
      '  }',
      '}',
      "for (const logFormat of ['rich', 'rich_tb']) {",
      '  for (const buffered of [false, true]) {',
      '    try {',
      '      basicConfig({ logFormat, buffered });',
      "      console.log('no error');",
      '    } catch (error) {',
      '      console.log(`${logFormat} ${buffered}: ${error.name}: ${error.message}`);',
      '    }',
      '  }',
      '}',
    ].join('\n'),
  );
  return app;
}

describe('without pino-pretty installed', () => {
  it('the other formats work and rich/rich_tb name the package to install', () => {
    const app = installWithoutPinoPretty();
    const result = spawnSync(process.execPath, ['main.mjs'], {
      cwd: app,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    for (const format of ['json', 'stream', 'plain']) {
      expect(result.stderr).toContain(`${format} buffered=false works`);
      expect(result.stderr).toContain(`${format} buffered=true works`);
    }
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).toMatch(
        /^rich(_tb)? (true|false): InvalidStateError: the rich and rich_tb log formats need pino-pretty, an optional peer dependency of @aiomisc\/log that is not installed: run `npm install pino-pretty`/,
      );
    }
  }, 60_000);
});
