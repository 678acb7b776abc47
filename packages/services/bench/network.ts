import { createSocket, type RemoteInfo } from 'node:dgram';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { fork } from 'node:child_process';
import { pathToFileURL } from 'node:url';

import { configureConsoleLogger } from '@aiomisc/core';
import { report, round } from '@aiomisc/bench';
import { makeCertificates } from '@aiomisc/test-kit';

import { TCPServer, TLSServer, UDPServer } from '../src/index';

type Mode = 'echo' | 'accept' | 'tls' | 'udp';

interface Subject {
  start(): Promise<number>;
  stop(): Promise<void>;
}

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

interface Figures {
  /** Operations per second (MB/s for echo) in the counted window. */
  rate: number;
  /** CPU time of this process (the server) per operation, in microseconds. */
  cpuPerOp: number;
}

function load(mode: Mode, port: number, ca?: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const cpu = process.cpuUsage();
    const child = fork(
      new URL('./network-load.mjs', import.meta.url),
      [JSON.stringify({ mode, port, durationMs, ca })],
      { execArgv: [] },
    );
    child.once('message', (value: { rate: number; total: number }) => {
      const used = process.cpuUsage(cpu);
      resolve({ rate: value.rate, cpuPerOp: (used.user + used.system) / value.total });
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the load process exited with ${code}`));
    });
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

function rawServer(server: Server): Subject {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    start: () => listen(server),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function ours(service: TCPServer | UDPServer): Subject {
  return {
    start: async () => {
      await service.start();
      return service.address().port;
    },
    stop: () => service.stop(),
  };
}

class Echo extends TCPServer {
  handleClient(socket: Socket) {
    socket.pipe(socket);
  }
}

class Closer extends TCPServer {
  handleClient(socket: Socket) {
    socket.end();
  }
}

class SecureCloser extends TLSServer {
  handleClient(socket: TLSSocket) {
    socket.end();
  }
}

class UdpEcho extends UDPServer {
  handleDatagram(data: Buffer, rinfo: RemoteInfo) {
    this.sendto(data, rinfo);
  }
}

function rawUdp(): Subject {
  const socket = createSocket('udp4');
  socket.on('message', (data: Buffer, rinfo: RemoteInfo) => {
    socket.send(data, rinfo.port, rinfo.address);
  });
  return {
    start: () =>
      new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port))),
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(make: () => Subject, mode: Mode, ca?: string): Promise<Figures> {
  const subject = make();
  const port = await subject.start();
  try {
    return await load(mode, port, ca);
  } finally {
    await subject.stop();
  }
}

/** TCP echo MB/s, accept rate, UDP datagrams/s and TLS handshakes/s: ours vs raw node:*, interleaved. */
export async function runNetworkBench(): Promise<void> {
  configureConsoleLogger({ level: 'warning' });
  const certs = makeCertificates();
  const tlsOptions = { cert: certs.server.cert, key: certs.server.key };
  const cases: {
    name: string;
    unit: string;
    mode: Mode;
    ours: () => Subject;
    raw: () => Subject;
  }[] = [
    {
      name: 'tcp_echo_64k',
      unit: 'MB_per_s',
      mode: 'echo',
      ours: () => ours(new Echo({ port: 0 })),
      raw: () => rawServer(createNetServer((socket) => socket.pipe(socket))),
    },
    {
      name: 'tcp_accept_50_clients',
      unit: 'connections_per_s',
      mode: 'accept',
      ours: () => ours(new Closer({ port: 0 })),
      raw: () => rawServer(createNetServer((socket) => socket.end())),
    },
    {
      name: 'udp_echo_64b',
      unit: 'datagrams_per_s',
      mode: 'udp',
      ours: () => ours(new UdpEcho({ port: 0 })),
      raw: rawUdp,
    },
    {
      name: 'tls_handshakes_8_clients',
      unit: 'handshakes_per_s',
      mode: 'tls',
      ours: () => ours(new SecureCloser({ port: 0, ...tlsOptions })),
      raw: () => rawServer(createTlsServer(tlsOptions, (socket) => socket.end())),
    },
  ];
  try {
    const only = process.env.BENCH_CASES?.split(',');
    for (const entry of cases) {
      if (only !== undefined && !only.includes(entry.name)) continue;
      const oursRuns: Figures[] = [];
      const rawRuns: Figures[] = [];
      for (let round_ = 0; round_ < rounds; round_++) {
        // Alternate the order so that neither side always runs on a warmer (or busier) machine.
        const first = round_ % 2 === 0;
        if (first) oursRuns.push(await measure(entry.ours, entry.mode, certs.ca.cert));
        rawRuns.push(await measure(entry.raw, entry.mode, certs.ca.cert));
        if (!first) oursRuns.push(await measure(entry.ours, entry.mode, certs.ca.cert));
      }
      // The machine is shared: the ratio is the median of the ratios of adjacent runs, which
      // cancels most of the load that changes from one round to the next.
      const ratios = oursRuns.map((value, index) => value.rate / rawRuns[index]!.rate);
      // CPU per operation of the server process barely depends on how busy the machine is:
      // raw / ours, so 1 means the service layer costs nothing and 0.95 means 5 % more CPU.
      const cpuRatios = oursRuns.map((value, index) => rawRuns[index]!.cpuPerOp / value.cpuPerOp);
      const three = (value: number) => Math.round(value * 1000) / 1000;
      report('services.network', entry.name, {
        unit: entry.unit,
        aiomisc: round(median(oursRuns.map((run) => run.rate))),
        raw: round(median(rawRuns.map((run) => run.rate))),
        ratio: three(median(ratios)),
        aiomisc_cpu_us_per_op: round(median(oursRuns.map((run) => run.cpuPerOp))),
        raw_cpu_us_per_op: round(median(rawRuns.map((run) => run.cpuPerOp))),
        cpu_ratio: three(median(cpuRatios)),
        aiomisc_runs: oursRuns.map((run) => round(run.rate)),
        raw_runs: rawRuns.map((run) => round(run.rate)),
      });
    }
  } finally {
    certs.cleanup();
  }
}

// `tsx bench/network.ts` runs this bench alone; bench/index.ts runs every bench of the package.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runNetworkBench();
}
