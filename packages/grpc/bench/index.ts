// GRPCService against a raw grpc-js server with the same handlers, in the same run. The server
// runs in a child process; this process is the client (one channel), as in the peer baselines.
//   pnpm --filter @aiomisc/grpc bench     (BENCH_WINDOWS=24 windows of BENCH_WINDOW_MS=500 ms)
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { report, round, throughput } from '@aiomisc/bench';
import { loadProtos } from '../src/index';
import { wrapperOverhead } from './wrapper';

const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 24);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 500);
const IN_FLIGHT = 64;
const STREAMS_IN_FLIGHT = 4;
const MESSAGES_PER_STREAM = 1_000;
const MODES = ['raw', 'raw_microtask', 'aiomisc', 'aiomisc_async'] as const;
type Mode = (typeof MODES)[number];

const Greeter = loadProtos(fileURLToPath(new URL('hello.proto', import.meta.url))).client(
  'helloworld.Greeter',
);

interface Server {
  child: ChildProcess;
  port: number;
  request(message: string): Promise<Record<string, unknown>>;
}

async function startServer(mode: Mode): Promise<Server> {
  const child = fork(fileURLToPath(new URL('server.ts', import.meta.url)), [mode], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [first] = (await once(child, 'message')) as [{ port: number }];
  return {
    child,
    port: first.port,
    async request(message) {
      const reply = once(child, 'message');
      child.send(message);
      return ((await reply) as [Record<string, unknown>])[0];
    },
  };
}

async function stopServer(server: Server): Promise<void> {
  const exited = once(server.child, 'exit');
  server.child.send('stop');
  await exited;
}

type Client = grpc.Client & {
  SayHello(
    request: unknown,
    callback: (error: grpc.ServiceError | null, reply: unknown) => void,
  ): grpc.ClientUnaryCall;
  SayHelloStream(request: unknown): grpc.ClientReadableStream<unknown>;
};

function unary(client: Client): Promise<unknown> {
  return new Promise((resolve, reject) => {
    client.SayHello({ name: 'bench' }, (error, reply) => (error ? reject(error) : resolve(reply)));
  });
}

function stream(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = client.SayHelloStream({ name: 'bench', count: MESSAGES_PER_STREAM });
    call.on('data', () => {});
    call.on('error', reject);
    call.on('end', resolve);
  });
}

interface Totals {
  ops: number;
  wallMs: number;
  clientCpuMicros: number;
  serverCpuMicros: number;
}
const kinds = ['unary', 'server_streaming'] as const;
type Kind = (typeof kinds)[number];

/** One window of `kind` against `server`; adds what it measured to `totals`. */
async function window(kind: Kind, server: Server, client: Client, totals: Totals): Promise<void> {
  await server.request('mark');
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  const rate =
    kind === 'unary'
      ? await throughput(() => unary(client), { inFlight: IN_FLIGHT, durationMs: WINDOW_MS })
      : await throughput(() => stream(client), {
          inFlight: STREAMS_IN_FLIGHT,
          durationMs: WINDOW_MS,
        });
  const wallMs = performance.now() - startedAt;
  const used = process.cpuUsage(cpu);
  const { cpuMicros } = (await server.request('cpu')) as { cpuMicros: number };
  const perOp = kind === 'unary' ? 1 : MESSAGES_PER_STREAM;
  totals.ops += ((rate * wallMs) / 1000) * perOp;
  totals.wallMs += wallMs;
  totals.clientCpuMicros += used.user + used.system;
  totals.serverCpuMicros += cpuMicros;
}

// Every server runs for the whole bench and the modes take turns in short windows (in a
// different order each time), so load from elsewhere on the machine falls on all of them alike.
const servers = new Map<Mode, Server>();
const clients = new Map<Mode, Client>();
for (const mode of MODES) {
  const server = await startServer(mode);
  servers.set(mode, server);
  clients.set(
    mode,
    new Greeter(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as Client,
  );
}
const totals = new Map<string, Totals>();
try {
  for (const mode of MODES) {
    // warm-up: connection, JIT
    await throughput(() => unary(clients.get(mode)!), { inFlight: IN_FLIGHT, durationMs: 500 });
    await throughput(() => stream(clients.get(mode)!), {
      inFlight: STREAMS_IN_FLIGHT,
      durationMs: 300,
    });
  }
  for (let index = 0; index < WINDOWS; index++) {
    for (const kind of kinds) {
      const order = [...MODES];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const mode of order) {
        const key = `${kind}_${mode}`;
        if (!totals.has(key)) {
          totals.set(key, { ops: 0, wallMs: 0, clientCpuMicros: 0, serverCpuMicros: 0 });
        }
        await window(kind, servers.get(mode)!, clients.get(mode)!, totals.get(key)!);
      }
    }
  }
} finally {
  for (const client of clients.values()) client.close();
  for (const server of servers.values()) await stopServer(server);
}

const figures = (kind: Kind, mode: Mode) => {
  const total = totals.get(`${kind}_${mode}`)!;
  return {
    rate: (total.ops * 1000) / total.wallMs,
    clientCpuPct: (total.clientCpuMicros / 1000 / total.wallMs) * 100,
    serverCpuPct: (total.serverCpuMicros / 1000 / total.wallMs) * 100,
    serverCpuMicrosPerOp: total.serverCpuMicros / total.ops,
  };
};
for (const kind of kinds) {
  const raw = figures(kind, 'raw');
  for (const mode of MODES) {
    const ours = figures(kind, mode);
    report('grpc', `${kind}_${mode}`, {
      [kind === 'unary' ? 'calls_per_s' : 'messages_per_s']: round(ours.rate),
      in_flight: kind === 'unary' ? IN_FLIGHT : `${STREAMS_IN_FLIGHT} streams`,
      ratio_vs_raw: Math.round((ours.rate / raw.rate) * 1000) / 1000,
      client_cpu_pct: round(ours.clientCpuPct),
      server_cpu_pct: round(ours.serverCpuPct),
      server_cpu_us_per_op: Math.round(ours.serverCpuMicrosPerOp * 100) / 100,
      server_cpu_ratio_vs_raw:
        Math.round((ours.serverCpuMicrosPerOp / raw.serverCpuMicrosPerOp) * 1000) / 1000,
      windows: WINDOWS,
      window_ms: WINDOW_MS,
    });
  }
}

const overhead = await wrapperOverhead();
report('grpc', 'wrapper_overhead_in_process', {
  ...overhead,
  added_ns_per_call: round(overhead.wrapped_ns_per_call! - overhead.raw_ns_per_call!),
  added_async_ns_per_call: round(overhead.wrapped_async_ns_per_call! - overhead.raw_ns_per_call!),
  raw_server_cpu_ns_per_call: round(figures('unary', 'raw').serverCpuMicrosPerOp * 1000),
});
