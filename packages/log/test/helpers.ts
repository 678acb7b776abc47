import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const children = new Set<ChildProcess>();
const directories = new Set<string>();

afterEach(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
});

/** A temporary directory removed after the test. */
export function temporaryDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aiomisc-log-'));
  directories.add(dir);
  return dir;
}

/** Reads a file's lines (without the last empty one). */
export function readLines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript fixture with tsx in a child process (killed after the test if still alive).
 * `onStdout` sees stdout as it arrives, e.g. to send a signal once the child says it is ready;
 * `onSpawn` sees the child at once (e.g. to close one of its pipes).
 */
export function runFixture(
  file: string,
  args: string[],
  options: SpawnOptions & {
    onStdout?: (text: string, child: ChildProcess) => void;
    onSpawn?: (child: ChildProcess) => void;
  } = {},
): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    env: {
      ...process.env,
      FORCE_COLOR: undefined,
      NO_COLOR: undefined,
      JOURNAL_STREAM: undefined,
      ...options.env,
    },
  });
  children.add(child);
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(stdout, child);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
