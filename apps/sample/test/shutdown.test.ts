// End to end: the built sample under HTTP, gRPC and TCP load at once, stopped by SIGTERM.
//
// "Accepted" here: an HTTP request, gRPC call or TCP line sent before the SIGTERM was sent (its
// connection was accepted before readiness went false, which happens at the signal), or one
// whose response started. Every accepted one must succeed. Requests sent after the signal may be
// refused (connection refused or reset before any response, UNAVAILABLE, the echo connection
// ended) once the drain delay is over: that is the server going away, not a failure.
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

import { afterEach, describe, expect, it } from 'vitest';

import {
  alive,
  descendants,
  killSamples,
  records,
  spawnSample,
  startSample,
  waitFor,
  type LogRecord,
} from './helpers.js';
import { EchoClient, greeterClient, grpcCall, httpRequest, loop, type Outcome } from './load.js';

afterEach(killSamples);

const SERVICES = [
  'ConfigService',
  'FlakyUpstream',
  'WorkerPoolService',
  'ApiService',
  'GreeterService',
  'EchoService',
  'UpstreamProbe',
  'SampleCron',
];

function isJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

function summary(outcomes: Outcome[], signalAt: number) {
  const before = outcomes.filter((o) => o.sentAt < signalAt);
  const after = outcomes.filter((o) => o.sentAt >= signalAt);
  return {
    sentBefore: before.length,
    okBefore: before.filter((o) => o.ok).length,
    okAfter: after.filter((o) => o.ok).length,
    refusedAfter: after.filter((o) => !o.ok && !o.responseStarted).length,
  };
}

describe('the sample under load', () => {
  it('stops on SIGTERM with no accepted request failing, exit 0, every stop logged, no record lost, no child left', async () => {
    const sample = await startSample([
      '--drain-delay',
      '1.5',
      '--shutdown-timeout',
      '20',
      '--tick-interval',
      '0.05',
      '--cron',
      '* * * * * *',
      '--workers',
      '2',
      '--upstream-failure-rate',
      '0',
      '--upstream-outage-every',
      '0',
    ]);
    const pid = sample.child.pid!;
    const status = (await (await fetch(`${sample.http}/status.json`)).json()) as {
      pools: { worker: { pids: number[] }; thread: { size: number } };
    };
    expect(status.pools.worker.pids).toHaveLength(2);
    expect(status.pools.thread.size).toBeGreaterThan(0);
    const children = descendants(pid);
    expect(children).toEqual(expect.arrayContaining(status.pools.worker.pids));

    const state = { signalAt: 0, done: false };
    const outcomes: Outcome[] = [];
    const agent = new Agent({ keepAlive: true });
    const routes = [
      '/hash?rounds=100',
      '/work?limit=5000',
      '/file',
      '/upstream',
      '/hello?name=load',
    ];
    const http = loop(
      6,
      (worker, index) =>
        httpRequest(agent, `${sample.http}${routes[(worker + index) % routes.length]}`, isJson),
      outcomes,
      state,
    );
    const client = greeterClient(sample.grpc);
    const grpc = loop(
      4,
      (worker, index) => grpcCall(client, `w${worker}-${index}`),
      outcomes,
      state,
    );
    const echoes = Array.from(
      { length: 4 },
      () => new EchoClient(sample.tcp.host, sample.tcp.port),
    );
    await Promise.all(echoes.map((echo) => echo.connected));
    const tcp = loop(
      4,
      (worker, index) => echoes[worker]!.send(`line-${worker}-${index}`),
      outcomes,
      state,
    );

    // Load until every kind has answered a fair number, then SIGTERM mid-load.
    await waitFor(
      () =>
        (['http', 'grpc', 'tcp'] as const).every(
          (kind) => outcomes.filter((o) => o.kind === kind && o.ok).length >= 50,
        ),
      { what: '50 answers of each kind', timeoutMs: 20_000 },
    );
    state.signalAt = performance.now();
    sample.child.kill('SIGTERM');

    // Readiness goes false at once while the servers keep serving (the drain).
    const probeAgent = new Agent({ keepAlive: false });
    const readiness = await waitFor(
      async () => {
        const probe = await httpRequest(probeAgent, `${sample.http}/readyz`, () => true);
        return probe.error === 'status 503' ? probe : undefined;
      },
      { what: 'readiness 503', timeoutMs: 5000 },
    );
    expect(readiness.responseStarted).toBe(true);
    // Still within the drain: liveness stays 200 and the status page says the services stop.
    const livez = await httpRequest(probeAgent, `${sample.http}/livez`, () => true);
    expect(livez.ok).toBe(true);
    const stopping = await httpRequest(probeAgent, `${sample.http}/status.json`, (body) => {
      const document = JSON.parse(body) as { phase: string; services: { state: string }[] };
      return (
        document.phase === 'stopping' && document.services.every((s) => s.state === 'stopping')
      );
    });
    expect(stopping.ok).toBe(true);

    const code = await sample.exited;
    state.done = true;
    await Promise.all([http, grpc, tcp]);
    client.close();
    agent.destroy();
    for (const echo of echoes) echo.close();

    expect(code).toBe(0);

    // Zero failed requests among the accepted ones.
    const accepted = outcomes.filter((o) => o.sentAt < state.signalAt || o.responseStarted);
    const failed = accepted.filter((o) => !o.ok);
    expect(failed).toEqual([]);
    const byKind = Object.fromEntries(
      (['http', 'grpc', 'tcp'] as const).map((kind) => [
        kind,
        summary(
          outcomes.filter((o) => o.kind === kind),
          state.signalAt,
        ),
      ]),
    );
    for (const kind of ['http', 'grpc', 'tcp'] as const) {
      expect(byKind[kind]!.okBefore).toBeGreaterThanOrEqual(50);
      expect(byKind[kind]!.okBefore).toBe(byKind[kind]!.sentBefore);
    }
    // The drain is real: requests sent after the signal were still served.
    expect(byKind.http!.okAfter + byKind.grpc!.okAfter + byKind.tcp!.okAfter).toBeGreaterThan(0);

    // Every line is a whole JSON record; every service's stop ran.
    const logs = records(sample);
    const stopped = (service: string) =>
      logs.find((r) => r.service === service && r.msg.startsWith(`${service} stopped`));
    for (const service of SERVICES) expect(stopped(service), `${service} stopped`).toBeDefined();
    expect(logs.some((r) => r.msg.startsWith(`Stopped ${SERVICES.length} services`))).toBe(true);
    expect(logs.filter((r) => r.level >= 50)).toEqual([]);

    // No record lost: every access-log record (one per answered request, numbered) and every
    // tick is there, as many as the services counted.
    const requestRecords = logs.filter((r) => r.msg === 'request');
    const apiRecords = stopped('ApiService')!.records as number;
    expect(requestRecords).toHaveLength(apiRecords);
    expect(new Set(requestRecords.map((r) => r.seq)).size).toBe(apiRecords);
    expect(Math.max(...requestRecords.map((r) => r.seq as number))).toBe(apiRecords);
    const answered = outcomes.filter((o) => o.kind === 'http' && o.responseStarted).length;
    expect(apiRecords).toBe(answered);
    const ticks = logs.filter((r): r is LogRecord & { tick: number } => r.msg === 'tick');
    const tickCount = stopped('UpstreamProbe')!.ticks as number;
    expect(ticks.map((r) => r.tick)).toEqual(Array.from({ length: tickCount }, (_, i) => i + 1));

    // No child process left: the WorkerPool's processes (and anything else the sample forked).
    await waitFor(() => children.every((child) => !alive(child)), {
      what: `the sample's children ${children.join(', ')} to be gone`,
      timeoutMs: 5000,
    });
    expect(alive(pid)).toBe(false);
    console.log(
      `load summary (accepted = sent before SIGTERM or answered): ${JSON.stringify(byKind)}`,
    );
  }, 60_000);

  it('cuts a stop that hangs at shutdownTimeout: exit code 70, the service named in the log', async () => {
    const sample = await startSample([
      '--hang-on-stop',
      '--shutdown-timeout',
      '2',
      '--drain-delay',
      '0.1',
    ]);
    const pid = sample.child.pid!;
    const children = descendants(pid);
    expect(children.length).toBeGreaterThanOrEqual(2);
    const signalAt = Date.now();
    sample.child.kill('SIGTERM');
    const code = await sample.exited;
    const elapsed = Date.now() - signalAt;
    expect(code).toBe(70);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    const logs = records(sample);
    const cut = logs.find((r) => /exiting with code 70/.test(r.msg));
    expect(cut?.msg).toMatch(/Shutdown did not happen in 2000 ms; still running: HangOnStop/);
    // The other services did stop.
    for (const service of SERVICES) {
      expect(
        logs.some((r) => r.service === service && r.msg.startsWith(`${service} stopped`)),
      ).toBe(true);
    }
    await waitFor(() => children.every((child) => !alive(child)), {
      what: `the sample's children ${children.join(', ')} to be gone`,
      timeoutMs: 5000,
    });
  }, 30_000);

  it('stops cleanly when SIGTERM comes during the start: exit 0, nothing left running', async () => {
    const sample = spawnSample(['--drain-delay', '0.1']);
    // Some servers are bound, others still starting (the API waits for the worker pool).
    await waitFor(() => sample.lines.some((line) => line.includes('upstream listening on')), {
      what: 'the first server to listen',
    });
    const children = descendants(sample.child.pid!);
    sample.child.kill('SIGTERM');
    expect(await sample.exited).toBe(0);
    const logs = records(sample);
    expect(logs.filter((r) => r.level >= 50)).toEqual([]);
    expect(logs.some((r) => r.msg.startsWith('Stopped '))).toBe(true);
    await waitFor(() => children.every((child) => !alive(child)), {
      what: `the sample's children ${children.join(', ')} to be gone`,
      timeoutMs: 5000,
    });
  }, 30_000);

  it('fails to start on a port in use: exit 1, the error logged, what did start stopped again', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const sample = spawnSample(['--tcp-port', String(port), '--drain-delay', '0']);
      const seen = new Set<number>();
      const watch = setInterval(() => {
        for (const child of descendants(sample.child.pid!)) seen.add(child);
      }, 20);
      const code = await sample.exited;
      clearInterval(watch);
      expect(code).toBe(1);
      const logs = records(sample);
      const failure = logs.find((r) => r.msg.startsWith('sample failed to start'));
      expect(failure?.msg).toContain(`EADDRINUSE: address already in use 127.0.0.1:${port}`);
      expect(logs.some((r) => r.msg.startsWith('sample started'))).toBe(false);
      expect([...seen].filter((child) => alive(child))).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 30_000);

  it('exits 70 at once on a second signal while a stop hangs, naming what is left', async () => {
    const sample = await startSample([
      '--hang-on-stop',
      '--shutdown-timeout',
      '60',
      '--drain-delay',
      '0',
    ]);
    sample.child.kill('SIGTERM');
    await waitFor(() => sample.lines.some((line) => line.includes('stop() will never return')), {
      what: 'the hanging stop',
    });
    // A signal within 500 ms of the first counts as the same one (process runners relay Ctrl+C twice).
    await new Promise((resolve) => setTimeout(resolve, 700));
    const secondAt = Date.now();
    sample.child.kill('SIGTERM');
    expect(await sample.exited).toBe(70);
    expect(Date.now() - secondAt).toBeLessThan(10_000);
    const cut = records(sample).find((r) => r.msg.startsWith('Second SIGTERM received'));
    expect(cut?.msg).toMatch(/exiting with code 70\. Still running: .*HangOnStop/);
  }, 30_000);

  it('takes durations of 2^31 ms and more (ticks 24.8 days apart) without firing early', async () => {
    const long = String(2 ** 31 / 1000 + 1); // seconds, just over the 2^31 ms Node clamps to 1 ms
    const sample = await startSample([
      '--tick-interval',
      long,
      '--shutdown-timeout',
      long,
      '--upstream-outage-every',
      long,
      '--upstream-outage-for',
      '1',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const status = (await (await fetch(`${sample.http}/status.json`)).json()) as {
      services: { name: string; ticks?: number }[];
    };
    const probe = status.services.find((s) => s.name === 'UpstreamProbe');
    expect(probe?.ticks).toBeLessThanOrEqual(1); // the first run at start, then not for 24.8 days
    sample.child.kill('SIGTERM');
    expect(await sample.exited).toBe(0);
  }, 30_000);
});
