#!/usr/bin/env node
// Packs every published package of the workspace (as `pnpm publish` would: workspace: ranges
// rewritten), installs all the tarballs with npm into a fresh app in the system's temp directory
// (outside the workspace, so nothing resolves through its node_modules), then imports every entry
// point from ESM and from CommonJS and type-checks an import of each from a .mts and a .cts file.
// Optional peer dependencies are not installed: importing a package must not need them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const keep = process.argv.includes('--keep');
/** `check.js core log` checks only those package folders (all of them by default). */
const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));

function run(command, args, cwd) {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}:\n${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  }
}

const packages = readdirSync(join(root, 'packages'))
  .filter((dir) => only.length === 0 || only.includes(dir))
  .map((dir) => join(root, 'packages', dir))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private);

const app = mkdtempSync(join(tmpdir(), 'aiomisc-pack-check-'));
try {
  const tarballs = join(app, 'tarballs');
  const files = packages.map(({ dir, manifest }) => {
    const output = run('pnpm', ['pack', '--pack-destination', tarballs], dir).trim().split('\n');
    const file = output.findLast((line) => line.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack printed no tarball for ${manifest.name}`);
    const listing = run('tar', ['-tzf', file], app);
    for (const required of ['package/LICENSE', 'package/README.md', 'package/package.json']) {
      if (!listing.split('\n').includes(required))
        throw new Error(`${manifest.name}: the tarball has no ${required.slice(8)}`);
    }
    for (const listed of manifest.files ?? []) {
      if (
        !listing
          .split('\n')
          .some((entry) => entry === `package/${listed}` || entry.startsWith(`package/${listed}/`))
      ) {
        throw new Error(
          `${manifest.name}: "files" lists ${listed}, which the tarball does not contain`,
        );
      }
    }
    return file;
  });

  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], app);

  const entries = packages.flatMap(({ manifest }) =>
    Object.keys(manifest.exports ?? { '.': null })
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`)),
  );

  // ESM and CommonJS: every entry loads and both give the same export names.
  writeFileSync(
    join(app, 'esm.mjs'),
    `const entries = ${JSON.stringify(entries)};\nconst names = {};\nfor (const entry of entries) names[entry] = Object.keys(await import(entry)).filter((name) => name !== 'default').sort();\nconsole.log(JSON.stringify(names));\n`,
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const entries = ${JSON.stringify(entries)};\nconst names = {};\nfor (const entry of entries) names[entry] = Object.keys(require(entry)).filter((name) => name !== 'default').sort();\nconsole.log(JSON.stringify(names));\n`,
  );
  const esm = JSON.parse(run(process.execPath, ['esm.mjs'], app));
  const cjs = JSON.parse(run(process.execPath, ['cjs.cjs'], app));
  for (const entry of entries) {
    if (esm[entry].length === 0) throw new Error(`${entry}: the ESM build exports nothing`);
    if (JSON.stringify(esm[entry]) !== JSON.stringify(cjs[entry])) {
      throw new Error(
        `${entry}: ESM exports ${esm[entry].join(', ')} but CommonJS exports ${cjs[entry].join(', ')}`,
      );
    }
  }

  // TypeScript under node16 resolution, from an ES module and from a CommonJS module, with the
  // `tsc --init` defaults (skipLibCheck: an optional peer such as fastify, absent here, is named
  // by the declarations of the package that can use it).
  const imports = entries
    .map((entry, index) => `import * as entry${index} from '${entry}';`)
    .join('\n');
  const uses = `export const loaded = [${entries.map((_, index) => `entry${index}`).join(', ')}];\n`;
  writeFileSync(join(app, 'check.mts'), `${imports}\n${uses}`);
  writeFileSync(join(app, 'check.cts'), `${imports}\n${uses}`);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'node16',
        moduleResolution: 'node16',
        target: 'es2022',
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      },
      files: ['check.mts', 'check.cts'],
    }),
  );
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);

  console.log(
    `pack-check: ${packages.length} packages packed, installed with npm into a fresh app, ${entries.length} entry points loaded from ESM and CommonJS and type-checked (node16)`,
  );
} finally {
  if (keep) console.log(`pack-check: the app is kept in ${app}`);
  else rmSync(app, { recursive: true, force: true });
}
