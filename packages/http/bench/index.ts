// HTTP hello on 127.0.0.1: autocannon (run in this process, programmatically) against a server in
// a forked child, 50 connections. Each pair (ours vs raw) is measured in alternating rounds.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { report, round } from '@aiomisc/bench';
import autocannon from 'autocannon';

const DURATION_S = Number(process.env.HTTP_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 2);
const CONNECTIONS = 50;
const serverFile = fileURLToPath(new URL('./server.ts', import.meta.url));

async function startServer(kind: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(serverFile, [kind], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return { child, port };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

function cpuOf(child: ChildProcess): Promise<NodeJS.CpuUsage> {
  return new Promise((resolve) => {
    child.once('message', (message: { cpu: NodeJS.CpuUsage }) => resolve(message.cpu));
    child.send('cpu');
  });
}

interface Figures {
  requests: number;
  seconds: number;
  p50: number[];
  p99: number[];
  cpuMicros: number;
  errors: number;
  non2xx: number;
}

async function measure(kind: string, into: Figures): Promise<void> {
  const { child, port } = await startServer(kind);
  try {
    const url = `http://127.0.0.1:${port}/`;
    await autocannon({ url, connections: CONNECTIONS, duration: 1 }); // warm-up
    const before = await cpuOf(child);
    const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
    const after = await cpuOf(child);
    into.cpuMicros += after.user + after.system - before.user - before.system;
    into.requests += result.requests.total;
    into.seconds += result.duration;
    into.p50.push(result.latency.p50);
    into.p99.push(result.latency.p99);
    into.errors += result.errors + result.timeouts;
    into.non2xx += result.non2xx;
  } finally {
    await stopServer(child);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

for (const [ours, peer] of [
  ['FastifyService', 'raw_fastify'],
  ['HTTPService', 'raw_node_http'],
] as const) {
  const figures: Record<string, Figures> = {};
  for (const kind of [ours, peer]) {
    figures[kind] = {
      requests: 0,
      seconds: 0,
      p50: [],
      p99: [],
      cpuMicros: 0,
      errors: 0,
      non2xx: 0,
    };
  }
  for (let round_ = 0; round_ < ROUNDS; round_++) {
    // alternate who goes first, so drift in the machine's load hits both alike
    const order = round_ % 2 === 0 ? [peer, ours] : [ours, peer];
    for (const kind of order) await measure(kind, figures[kind]!);
  }
  const rate = (kind: string) => figures[kind]!.requests / figures[kind]!.seconds;
  const cpuPerRequest = (kind: string) => figures[kind]!.cpuMicros / figures[kind]!.requests;
  for (const kind of [peer, ours]) {
    const f = figures[kind]!;
    report('http', kind, {
      req_per_s: round(rate(kind)),
      p50_ms: median(f.p50),
      p99_ms: median(f.p99),
      server_cpu_us_per_req: round(cpuPerRequest(kind)),
      errors: f.errors,
      non2xx: f.non2xx,
      ...(kind === ours
        ? { ratio_vs_raw: Math.round((rate(ours) / rate(peer)) * 1000) / 1000 }
        : {}),
      connections: CONNECTIONS,
      seconds: DURATION_S,
      rounds: ROUNDS,
    });
  }
}
