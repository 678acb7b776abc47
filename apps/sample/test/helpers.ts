import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** One JSON log record of the sample. */
export interface LogRecord {
  level: number;
  name?: string;
  msg: string;
  [field: string]: unknown;
}

/** A started sample process, with the addresses it logged. */
export interface Sample extends SpawnedSample {
  http: string;
  grpc: string;
  tcp: { host: string; port: number };
}

const running = new Set<ChildProcess>();

/** Kills the samples a failed test left running (called from afterEach). */
export function killSamples(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  running.clear();
}

/** A sample process as spawned, before it started. */
export interface SpawnedSample {
  child: ChildProcess;
  /** Every line the sample logged (to stderr, as Python's logging does), as written. */
  lines: string[];
  /** What it wrote to stdout. */
  stdout: () => string;
  /** Resolves with the exit code (or the signal name) once it exited and its pipes closed. */
  exited: Promise<number | string>;
  /** Resolves once it logged "sample started"; rejects when it exited before. */
  started: Promise<void>;
}

/**
 * Spawns the BUILT sample (`node dist/main.js`) with every port 0 (unless `args` say otherwise),
 * JSON logs, and `args`.
 */
export function spawnSample(
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): SpawnedSample {
  if (!existsSync(main)) {
    throw new Error(
      `${main} is missing: build the sample first (pnpm --filter @example/sample build)`,
    );
  }
  const child = spawn(
    process.execPath,
    [main, '--http-port', '0', '--grpc-port', '0', '--tcp-port', '0', ...args],
    {
      cwd: root,
      env: { ...process.env, AIOMISC_LOG_FORMAT: 'json', AIOMISC_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  const lines: string[] = [];
  let partial = '';
  let stdout = '';
  // 'close', not 'exit': the log lines still in the pipe are read by then.
  const exited = new Promise<number | string>((resolve) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  const started = new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      partial += chunk;
      const complete = partial.split('\n');
      partial = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        if (line.includes('"sample started')) resolve();
      }
    });
    child.stderr.on('end', () => {
      if (partial) lines.push(partial);
      partial = '';
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    void exited.then((code) =>
      reject(
        new Error(`the sample exited (${code}) before it started:\n${lines.join('\n')}\n${stdout}`),
      ),
    );
  });
  started.catch(() => undefined); // a caller that never awaits it gets no unhandled rejection
  return { child, lines, stdout: () => stdout, exited, started };
}

/** Spawns the sample and resolves once it started, with the addresses it logged. */
export async function startSample(
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<Sample> {
  const spawned = spawnSample(args, env);
  await spawned.started;
  const text = spawned.lines.join('\n');
  const http = /http listening on (http:\/\/[\d.]+:\d+)/.exec(text)?.[1];
  const grpc = /grpc listening on ([\d.]+:\d+)/.exec(text)?.[1];
  const tcp = /tcp echo listening on ([\d.]+):(\d+)/.exec(text);
  if (!http || !grpc || !tcp) throw new Error(`addresses missing from the start log:\n${text}`);
  return { ...spawned, http, grpc, tcp: { host: tcp[1]!, port: Number(tcp[2]) } };
}

/** Parses every logged line as a JSON record (throws on a line that is not one). */
export function records(sample: { lines: string[] }): LogRecord[] {
  return sample.lines
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogRecord;
      } catch {
        throw new Error(`not a JSON record: ${line}`);
      }
    });
}

/** Pids of every live descendant of `pid` (children, their children, ...), from /proc. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Whether a process with this pid is alive (a zombie, dead but not reaped yet, is not). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `condition` every 50 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 15_000, what = 'a condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
