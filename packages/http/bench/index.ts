// HTTP hello on 127.0.0.1: autocannon, run programmatically in this process, against servers in
// forked children, 50 connections. Each pair (ours vs raw) is measured in alternating slices.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { report, round } from '@aiomisc/bench';
import autocannon from 'autocannon';

const DURATION_S = Number(process.env.HTTP_BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 6);
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

async function measure(
  server: { child: ChildProcess; port: number },
  into: Figures,
): Promise<void> {
  const url = `http://127.0.0.1:${server.port}/`;
  const before = await cpuOf(server.child);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
  const after = await cpuOf(server.child);
  into.cpuMicros += after.user + after.system - before.user - before.system;
  into.requests += result.requests.total;
  into.seconds += result.duration;
  into.p50.push(result.latency.p50);
  into.p99.push(result.latency.p99);
  into.errors += result.errors + result.timeouts;
  into.non2xx += result.non2xx;
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
  // Both servers run side by side (idle while the other is measured) and take turns in short
  // slices, so that drift in the load of a shared machine hits both alike.
  const servers = { [ours]: await startServer(ours), [peer]: await startServer(peer) };
  try {
    for (const kind of [peer, ours]) {
      await autocannon({
        url: `http://127.0.0.1:${servers[kind]!.port}/`,
        connections: CONNECTIONS,
        duration: 1,
      });
    }
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const order = round_ % 2 === 0 ? [peer, ours] : [ours, peer];
      for (const kind of order) await measure(servers[kind]!, figures[kind]!);
    }
  } finally {
    await Promise.all(Object.values(servers).map(({ child }) => stopServer(child)));
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
