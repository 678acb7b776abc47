import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The fenced TypeScript examples of a Markdown file. A fence opened with ```ts (or
 * ```typescript) is type-checked and run; ```ts typecheck is only type-checked (the text next
 * to it says why it cannot run here); any other language is not checked.
 */
export function readmeExamples(markdownPath) {
  const lines = readFileSync(markdownPath, 'utf8').split('\n');
  const examples = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i].trim());
    if (!open) continue;
    const tags = (open[2] ?? '').split(/\s+/).filter(Boolean);
    const start = i + 1;
    const body = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) body.push(lines[i]);
    examples.push({ line: start, code: body.join('\n'), run: !tags.includes('typecheck') });
  }
  return examples;
}

function runNode(file, cwd, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n[killed: still running after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/**
 * Declares vitest tests for a package README: one that type-checks every TypeScript example
 * (each written to `.readme-examples/` in the package, importing packages by name), and one per
 * runnable example that runs it with Node (through tsx) and expects exit code 0.
 *
 * @param {URL | string} readme the README (usually `new URL('../README.md', import.meta.url)`)
 * @param {{ timeoutMs?: number }} [options]
 */
export function describeReadmeExamples(readme, options = {}) {
  const readmePath = readme instanceof URL ? fileURLToPath(readme) : readme;
  const packageDir = dirname(readmePath);
  const dir = join(packageDir, '.readme-examples');
  const examples = readmeExamples(readmePath);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const where = relative(process.cwd(), readmePath) || 'README.md';

  describe(`${where} examples`, () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = examples.map((example) => {
      const file = join(dir, `line-${example.line}.ts`);
      writeFileSync(file, `${example.code}\n\nexport {};\n`);
      return file;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '@aiomisc/tsconfig/base.json',
        compilerOptions: { noEmit: true, noUnusedLocals: false },
        include: ['*.ts'],
      }),
    );

    it('has examples that type-check', () => {
      if (files.length === 0) return;
      const tsc = createRequire(join(packageDir, 'package.json')).resolve('typescript/bin/tsc');
      const result = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
        cwd: packageDir,
        encoding: 'utf8',
      });
      const report = (result.stdout + result.stderr).replace(
        /\.readme-examples\/line-(\d+)\.ts\((\d+),(\d+)\)/g,
        (_, start, line, column) => `README.md:${Number(start) + Number(line) - 1}:${column}`,
      );
      expect(report, 'tsc over the README examples').toBe('');
      expect(result.status).toBe(0);
    }, 120_000);

    examples.forEach((example, index) => {
      it.runIf(example.run)(
        `runs the example at README.md:${example.line}`,
        async () => {
          const result = await runNode(files[index], packageDir, timeoutMs);
          expect(result.output && result.code !== 0 ? result.output : '', 'its output').toBe('');
          expect(result.code).toBe(0);
        },
        timeoutMs + 10_000,
      );
    });
  });
}
