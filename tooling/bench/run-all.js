#!/usr/bin/env node
// Runs every package's `bench` script one after the other (never two at once: they compete for
// the CPU), collects the JSON lines they print ({ bench, case, ...figures }), and writes
// benchmarks/results.json and benchmarks/results.md (one table per bench, ours vs the peers).
// `node tooling/bench/run-all.js pool log` runs only those package folders.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const only = process.argv.slice(2);

function runBench(dir, name) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('pnpm', ['run', 'bench'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const rows = [];
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('{"bench"')) continue;
        try {
          rows.push({ package: name, ...JSON.parse(line) });
        } catch {
          // a line that only looks like a result
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolvePromise(rows) : reject(new Error(`${name}: bench exited with ${code}`)),
    );
  });
}

const packages = readdirSync(join(root, 'packages'))
  .filter((dir) => only.length === 0 || only.includes(dir))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ manifest }) => manifest.scripts?.bench);

const started = new Date();
const load = [loadavg()[0]];
const rows = [];
const failures = [];
for (const { dir, manifest } of packages) {
  console.error(`\n== ${manifest.name}`);
  try {
    rows.push(...(await runBench(dir, manifest.name)));
  } catch (error) {
    failures.push(String(error.message ?? error));
  }
  load.push(loadavg()[0]);
}

const machine = {
  date: started.toISOString(),
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memory_gib: Math.round(totalmem() / 2 ** 30),
  load_average_1m: { min: Math.min(...load), max: Math.max(...load) },
};
const out = join(root, 'benchmarks');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'results.json'),
  `${JSON.stringify({ machine, failures, rows }, null, 2)}\n`,
);

const format = (value) =>
  typeof value === 'number'
    ? value.toLocaleString('en-US', { maximumFractionDigits: 2 })
    : String(value);
const lines = [
  `Made by \`pnpm bench\` on ${machine.date.slice(0, 10)}: Node ${machine.node}, ${machine.cpus}, ${machine.memory_gib} GiB,`,
  `load average ${machine.load_average_1m.min.toFixed(1)}–${machine.load_average_1m.max.toFixed(1)}. Ratios compare cases of the same run.`,
  '',
];
for (const bench of [...new Set(rows.map((row) => row.bench))]) {
  const group = rows.filter((row) => row.bench === bench);
  const keys = [...new Set(group.flatMap((row) => Object.keys(row)))].filter(
    (key) => !['package', 'bench', 'case'].includes(key),
  );
  lines.push(
    `### ${bench} (${group[0].package})`,
    '',
    `| case | ${keys.join(' | ')} |`,
    `|---|${keys.map(() => '---:').join('|')}|`,
  );
  for (const row of group)
    lines.push(
      `| ${row.case} | ${keys.map((key) => (key in row ? format(row[key]) : '')).join(' | ')} |`,
    );
  lines.push('');
}
if (failures.length > 0)
  lines.push('Benches that failed:', '', ...failures.map((failure) => `- ${failure}`), '');
writeFileSync(join(out, 'results.md'), `${lines.join('\n')}\n`);
console.error(
  `\nwrote benchmarks/results.json and benchmarks/results.md (${rows.length} rows${failures.length ? `, ${failures.length} failed` : ''})`,
);
if (failures.length > 0) process.exitCode = 1;
