// GRPCService against a raw grpc-js server with the same handlers, in the same run. The server
// runs in a child process; this process is the client (one channel), as in the peer baselines.
//   pnpm --filter @aiomisc/grpc bench     (BENCH_DURATION_MS=5000 BENCH_ROUNDS=2 by default)
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { report, round, throughput } from '@aiomisc/bench';
import { loadProtos } from '../src/index';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const IN_FLIGHT = 64;
const STREAMS_IN_FLIGHT = 4;
const MESSAGES_PER_STREAM = 1_000;
const MODES = ['raw', 'aiomisc', 'aiomisc_async'] as const;
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

async function measure(
  server: Server,
  run: () => Promise<number>,
): Promise<{ rate: number; client_cpu_pct: number; server_cpu_pct: number }> {
  await server.request('mark');
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  const rate = await run();
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - startedAt;
  const { cpuPct } = (await server.request('cpu')) as { cpuPct: number };
  return {
    rate,
    client_cpu_pct: round(((used.user + used.system) / 1000 / wall) * 100),
    server_cpu_pct: round(cpuPct),
  };
}

const results: Record<string, { unary: number[]; streaming: number[] }> = {};
for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
  for (const mode of MODES) {
    const server = await startServer(mode);
    const client = new Greeter(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as Client;
    try {
      // warm-up: connection, JIT
      await throughput(() => unary(client), { inFlight: IN_FLIGHT, durationMs: 500 });
      const unaryFigures = await measure(server, () =>
        throughput(() => unary(client), { inFlight: IN_FLIGHT, durationMs: DURATION_MS }),
      );
      report('grpc', `unary_${mode}`, {
        round: roundIndex + 1,
        calls_per_s: round(unaryFigures.rate),
        in_flight: IN_FLIGHT,
        client_cpu_pct: unaryFigures.client_cpu_pct,
        server_cpu_pct: unaryFigures.server_cpu_pct,
      });
      await throughput(() => stream(client), { inFlight: STREAMS_IN_FLIGHT, durationMs: 300 });
      const streamFigures = await measure(server, () =>
        throughput(() => stream(client), {
          inFlight: STREAMS_IN_FLIGHT,
          durationMs: DURATION_MS,
        }),
      );
      report('grpc', `server_streaming_${mode}`, {
        round: roundIndex + 1,
        messages_per_s: round(streamFigures.rate * MESSAGES_PER_STREAM),
        streams_in_flight: STREAMS_IN_FLIGHT,
        client_cpu_pct: streamFigures.client_cpu_pct,
        server_cpu_pct: streamFigures.server_cpu_pct,
      });
      const entry = (results[mode] ??= { unary: [], streaming: [] });
      entry.unary.push(unaryFigures.rate);
      entry.streaming.push(streamFigures.rate * MESSAGES_PER_STREAM);
    } finally {
      client.close();
      await stopServer(server);
    }
  }
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const raw = results.raw!;
for (const mode of ['aiomisc', 'aiomisc_async'] as const) {
  const ours = results[mode]!;
  report('grpc', `ratio_${mode}_vs_raw`, {
    unary: round((mean(ours.unary) / mean(raw.unary)) * 100) / 100,
    server_streaming: round((mean(ours.streaming) / mean(raw.streaming)) * 100) / 100,
    rounds: ROUNDS,
  });
}
