// 200,000 info records through @aiomisc/log and through raw pino, same file destination and
// format, each case in its own child process, alternating, 5 rounds (median). Prints one JSON
// line per case: issued calls/s, end-to-end lines/s (until the last exit hook ran), lines
// found in the file, lost records, and the ratio against raw pino.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report } from '@aiomisc/bench';

const count = 200_000;
const rounds = 5;
const child = join(import.meta.dirname, 'log-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'aiomisc-log-bench-'));

interface Run {
  callsPerSecond: number;
  e2ePerSecond: number;
  lines: number;
}

function runOnce(impl: string, mode: string, format: string): Run {
  const file = join(dir, `${impl}-${mode}-${format}.log`);
  rmSync(file, { force: true });
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', child, impl, mode, format, file, String(count)],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const { callMs, e2eMs } = JSON.parse(out.trim().split('\n').at(-1)!) as {
    callMs: number;
    e2eMs: number;
  };
  const text = readFileSync(file, 'utf8');
  let lines = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) lines++;
  return { callsPerSecond: (count * 1000) / callMs, e2ePerSecond: (count * 1000) / e2eMs, lines };
}

/** The same with the records written to the child's stderr, a pipe this process reads as fast as it can. */
function runToPipe(impl: string, mode: string, records: number): Run {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', child, impl, mode, 'json', 'stderr', String(records)],
    {
      maxBuffer: 1 << 30,
      timeout: 300_000,
    },
  );
  const { callMs, e2eMs } = JSON.parse(result.stdout.toString().trim().split('\n').at(-1)!) as {
    callMs: number;
    e2eMs: number;
  };
  const text = result.stderr;
  let lines = 0;
  for (let index = text.indexOf(10); index !== -1; index = text.indexOf(10, index + 1)) lines++;
  return {
    callsPerSecond: (records * 1000) / callMs,
    e2ePerSecond: (records * 1000) / e2eMs,
    lines,
  };
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

try {
  for (const format of ['json', 'human']) {
    for (const mode of ['sync', 'buffered']) {
      const runs: Record<string, Run[]> = { pino: [], aiomisc: [] };
      for (let i = 0; i < rounds; i++) {
        for (const impl of i % 2 === 0 ? ['pino', 'aiomisc'] : ['aiomisc', 'pino'])
          runs[impl]!.push(runOnce(impl, mode, format));
      }
      const summary = (impl: string) => ({
        calls: median(runs[impl]!.map((run) => run.callsPerSecond)),
        e2e: median(runs[impl]!.map((run) => run.e2ePerSecond)),
        minLines: Math.min(...runs[impl]!.map((run) => run.lines)),
      });
      const pino = summary('pino');
      const ours = summary('aiomisc');
      for (const [impl, figures] of [
        ['pino', pino],
        ['@aiomisc/log', ours],
      ] as const) {
        report('log', `${format}/${mode}/${impl}`, {
          records: count,
          call_lines_per_s: Math.round(figures.calls),
          e2e_lines_per_s: Math.round(figures.e2e),
          lines_in_file: figures.minLines,
          lost: count - figures.minLines,
          ratio_calls_vs_pino: Math.round((figures.calls / pino.calls) * 100) / 100,
          ratio_e2e_vs_pino: Math.round((figures.e2e / pino.e2e) * 100) / 100,
        });
      }
    }
  }
  // To a pipe (stderr under Docker or systemd): raw pino's sonic-boom sleeps 100 ms whenever the
  // non-blocking pipe is full, so fewer records and rounds keep its rows within minutes.
  const pipeCount = 50_000;
  const pipeRounds = 3;
  for (const mode of ['sync', 'buffered']) {
    const runs: Record<string, Run[]> = { pino: [], aiomisc: [] };
    for (let i = 0; i < pipeRounds; i++) {
      for (const impl of i % 2 === 0 ? ['pino', 'aiomisc'] : ['aiomisc', 'pino'])
        runs[impl]!.push(runToPipe(impl, mode, pipeCount));
    }
    const summary = (impl: string) => ({
      calls: median(runs[impl]!.map((run) => run.callsPerSecond)),
      e2e: median(runs[impl]!.map((run) => run.e2ePerSecond)),
      minLines: Math.min(...runs[impl]!.map((run) => run.lines)),
    });
    const pino = summary('pino');
    const ours = summary('aiomisc');
    for (const [impl, figures] of [
      ['pino', pino],
      ['@aiomisc/log', ours],
    ] as const) {
      report('log', `json-to-stderr-pipe/${mode}/${impl}`, {
        records: pipeCount,
        call_lines_per_s: Math.round(figures.calls),
        e2e_lines_per_s: Math.round(figures.e2e),
        lines_in_pipe: figures.minLines,
        lost: pipeCount - figures.minLines,
        ratio_calls_vs_pino: Math.round((figures.calls / pino.calls) * 100) / 100,
        ratio_e2e_vs_pino: Math.round((figures.e2e / pino.e2e) * 100) / 100,
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
