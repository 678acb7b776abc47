import * as grpc from '@grpc/grpc-js';
import { Entrypoint, entrypoint, getStatistics } from '@aiomisc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { GRPCService, loadHealthProtos } from '../src/index';
import { callError, gate, Greeter, portIsFree, protos, unary, until, type Reply } from './helpers';

const Health = loadHealthProtos().client('grpc.health.v1.Health');
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Greeter whose `wait` calls block until `release()`; counts the calls that entered. */
function blockingService(options: ConstructorParameters<typeof GRPCService>[0] = {}) {
  const release = gate();
  let entered = 0;
  const service = new GRPCService({ health: true, ...options });
  service.addService(protos.service('helloworld.Greeter'), {
    SayHello: async (call: grpc.ServerUnaryCall<{ name: string }, Reply>) => {
      entered++;
      if (call.request.name === 'wait') await release.promise;
      if (call.request.name === 'forever') await new Promise(() => {});
      return { message: `Hello, ${call.request.name}!` };
    },
  });
  service.addInsecurePort('127.0.0.1:0');
  cleanups.push(() => service.stop());
  return { service, release: () => release.open(), entered: () => entered };
}

function clientFor(service: GRPCService, Client = Greeter): grpc.Client {
  const client = new Client(
    `127.0.0.1:${service.ports[0]!.port}`,
    grpc.credentials.createInsecure(),
  );
  cleanups.push(() => client.close());
  return client;
}

function watch(client: grpc.Client): { statuses: string[]; ended: Promise<void> } {
  const statuses: string[] = [];
  const stream = (
    client as unknown as Record<
      string,
      (r: unknown) => grpc.ClientReadableStream<{ status: string }>
    >
  ).Watch!({ service: '' });
  stream.on('data', (message: { status: string }) => statuses.push(message.status));
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('error', () => resolve());
  });
  return { statuses, ended };
}

describe('GRPCService stop', () => {
  it('turns health NOT_SERVING, lets the call in flight finish, and refuses new calls', async () => {
    const { service, release, entered } = blockingService();
    await service.start();
    const port = service.ports[0]!.port;
    const client = clientFor(service);
    const health = watch(clientFor(service, Health));
    await until(() => health.statuses.length === 1, 'the first health status');
    expect(health.statuses).toEqual(['SERVING']);

    const inFlight = unary(client, 'SayHello', { name: 'wait' });
    await until(() => entered() === 1, 'the call to reach the handler');
    const stopped = service.stop();
    expect(service.getServingStatus('')).toBe('NOT_SERVING');
    await until(() => health.statuses.length === 2, 'NOT_SERVING on the watch');
    expect(health.statuses).toEqual(['SERVING', 'NOT_SERVING']);
    await health.ended;

    const refused = await callError(unary(client, 'SayHello', { name: 'late' }));
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
    expect(entered()).toBe(1);

    release();
    expect(await inFlight).toEqual({ message: 'Hello, wait!' });
    await stopped;
    const afterStop = await callError(unary(client, 'SayHello', { name: 'after' }));
    expect(afterStop.code).toBe(grpc.status.UNAVAILABLE);
    expect(entered()).toBe(1);
    expect(service.ports).toEqual([]);
    expect(service.server).toBeUndefined();
    expect(await portIsFree(port)).toBe(true);
  });

  it('cancels what is still running at stopTimeout', async () => {
    const { service } = blockingService({ stopTimeout: 200, statisticName: 'deadline' });
    await service.start();
    const client = clientFor(service);
    const inFlight = callError(unary(client, 'SayHello', { name: 'forever' }));
    await until(
      () =>
        getStatistics('GRPCMethodStatistic').some(
          (s) =>
            s.name === 'deadline:/helloworld.Greeter/SayHello' &&
            s.metric === 'in_flight' &&
            s.value === 1,
        ),
      'the call in flight',
    );
    const startedAt = Date.now();
    await service.stop();
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    const error = await inFlight;
    expect([grpc.status.CANCELLED, grpc.status.UNAVAILABLE, grpc.status.INTERNAL]).toContain(
      error.code,
    );
    const counters = Object.fromEntries(
      getStatistics('GRPCMethodStatistic')
        .filter((s) => s.name === 'deadline:/helloworld.Greeter/SayHello')
        .map((s) => [s.metric, s.value]),
    );
    expect(counters.in_flight).toBe(0);
    expect(counters.status_CANCELLED).toBe(1);
  });

  it('cancels at once with stopTimeout 0', async () => {
    const { service, entered } = blockingService({ stopTimeout: 0 });
    await service.start();
    const inFlight = callError(unary(clientFor(service), 'SayHello', { name: 'wait' }));
    await until(() => entered() === 1, 'the call to reach the handler');
    await service.stop();
    expect((await inFlight).code).not.toBe(grpc.status.OK);
  });

  it('waits for the call with a stopTimeout beyond 2^31 ms (no 1 ms timer clamp)', async () => {
    const { service, release, entered } = blockingService({ stopTimeout: 2 ** 31 + 1_000 });
    await service.start();
    const inFlight = unary(clientFor(service), 'SayHello', { name: 'wait' });
    await until(() => entered() === 1, 'the call to reach the handler');
    const stopped = service.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    expect(await inFlight).toEqual({ message: 'Hello, wait!' });
    await stopped;
  });

  it('does nothing when stopped before start, and a second stop is harmless', async () => {
    const { service } = blockingService();
    await service.stop();
    await service.start();
    const port = service.ports[0]!.port;
    await Promise.all([service.stop(), service.stop()]);
    await service.stop();
    expect(await portIsFree(port)).toBe(true);
  });

  it('stops cleanly when stop() is called while start() is binding', async () => {
    const { service } = blockingService();
    const started = service.start();
    const stopped = service.stop();
    await started;
    await stopped;
    expect(service.server).toBeUndefined();
    expect(service.ports).toEqual([]);
  });

  it('starts again after a stop, on a fresh server', async () => {
    const { service } = blockingService();
    await service.start();
    const first = service.server;
    await service.stop();
    await service.start();
    expect(service.server).not.toBe(first);
    expect(await unary(clientFor(service), 'SayHello', { name: 'again' })).toEqual({
      message: 'Hello, again!',
    });
    expect(service.getServingStatus('helloworld.Greeter')).toBe('SERVING');
  });

  it('follows an entrypoint: NOT_SERVING when its stop begins, forced within its shutdownTimeout', async () => {
    const { service, entered } = blockingService();
    const seenAtPreStop: (string | undefined)[] = [];
    const preStop = (): void => {
      seenAtPreStop.push(service.getServingStatus(''));
    };
    Entrypoint.PRE_STOP.connect(preStop);
    cleanups.push(() => Entrypoint.PRE_STOP.disconnect(preStop));
    const ep = entrypoint({ services: [service], shutdownTimeout: 1_000, catchSignals: [] });
    await ep.start();
    cleanups.push(() => ep.stop());
    const client = clientFor(service);
    expect(await unary(client, 'SayHello', { name: 'ep' })).toEqual({ message: 'Hello, ep!' });
    const inFlight = callError(unary(client, 'SayHello', { name: 'forever' }));
    await until(() => entered() === 2, 'the call to reach the handler');
    const stopped = ep.stop();
    await until(() => service.getServingStatus('') === 'NOT_SERVING', 'NOT_SERVING');
    expect(seenAtPreStop).toEqual(['NOT_SERVING']);
    // stopTimeout (60 s) is cut to 90 % of shutdownTimeout: the entrypoint stops without timing out
    await stopped;
    expect(ep.shutdownReport.every((entry) => !entry.timedOut)).toBe(true);
    expect((await inFlight).code).not.toBe(grpc.status.OK);
  });
});

describe('GRPCService leaves nothing behind', () => {
  it('lets the process exit after a forced stop with a handler that never settles', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('fixtures/exit-app.ts', import.meta.url).pathname],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    clearTimeout(killer);
    expect(signal, output).toBeNull();
    expect(code, output).toBe(0);
    expect(output).toContain('stopped');
    expect(output).not.toContain('call ended with 0');
  }, 30_000);
});
