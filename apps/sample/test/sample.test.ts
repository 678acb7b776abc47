// The built sample, one instance for the whole file: every route and protocol it serves, then
// its status page in a real browser (headless Chromium driven by playwright-core), then a SIGINT.
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { credentials, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { loadHealthProtos, loadProtos } from '@aiomisc/grpc';
import { systemCommand } from '@aiomisc/test-kit';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { killSamples, records, startSample, type Sample } from './helpers.js';
import { EchoClient, greeterClient, grpcCall } from './load.js';

const artifacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const dataFile = `${artifacts}data.txt.gz`;
const hasChromium = systemCommand('chromium', { install: 'apt-get install chromium' });

let sample: Sample;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  rmSync(dataFile, { force: true }); // the sample writes it at start
  sample = await startSample(
    [
      '--greeting',
      'Hi',
      '--tick-interval',
      '0.1',
      '--cron',
      '* * * * * *',
      // Fails 90 % of the upstream's answers: the breaker breaks, recovers, breaks again.
      '--upstream-failure-rate',
      '0.9',
      '--upstream-outage-every',
      '0',
    ],
    { AIOMISC_SAMPLE_DATA_FILE: dataFile },
  );
}, 30_000);

afterAll(() => killSamples());

async function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sample.http}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the sample', () => {
  it('serves the HTTP API: greeting from the context, threaded hash, worker pool, gzip file', async () => {
    expect(await getJson('/hello?name=you')).toEqual({
      status: 200,
      body: { message: 'Hi, you!' },
    });
    const hash = await getJson('/hash?text=abc&rounds=3');
    expect(hash.body.digest).toMatch(/^[0-9a-f]{64}$/);
    const work = await getJson('/work?limit=100');
    expect(work.body).toMatchObject({ limit: 100, primes: 25 });
    const status = (await getJson('/status.json')).body as {
      pools: { worker: { pids: number[] } };
    };
    expect(status.pools.worker.pids).toContain(work.body.pid);
    expect((await getJson('/file')).body).toEqual({
      lines: 1000,
      first: 'line 1: the quick brown fox jumps over the lazy dog',
      last: 'line 1000: the quick brown fox jumps over the lazy dog',
    });
  });

  it('calls the upstream through the breaker: an answer, a 502 after the retries, or a 503 when broken', async () => {
    // The probe may have broken the circuit already (every answer then 503 for brokenTime):
    // call for a while, until two different outcomes were seen.
    const seen = new Set<number>();
    const until = Date.now() + 15_000;
    while (seen.size < 2 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { status, body } = await getJson('/upstream');
      seen.add(status);
      expect([200, 502, 503]).toContain(status);
      expect(['PASSING', 'BROKEN', 'RECOVERING']).toContain(body.breaker);
      if (status === 503) expect(body.error).toBe('circuit broken');
    }
    expect(seen.size).toBeGreaterThan(1);
  }, 20_000);

  it('answers the liveness and readiness probes', async () => {
    expect((await fetch(`${sample.http}/livez`)).status).toBe(200);
    expect((await fetch(`${sample.http}/readyz`)).status).toBe(200);
  });

  it('serves the gRPC Greeter, the health service and reflection', async () => {
    const greeter = greeterClient(sample.grpc);
    const reply = await grpcCall(greeter, 'grpc', 'Hi');
    greeter.close();
    expect(reply.ok).toBe(true);

    const Health = loadHealthProtos().client('grpc.health.v1.Health');
    const health = new Health(sample.grpc, credentials.createInsecure()) as unknown as {
      Check(
        request: { service: string },
        callback: (error: ServiceError | null, reply?: { status: string }) => void,
      ): void;
      close(): void;
    };
    const serving = await new Promise((resolve, reject) =>
      health.Check({ service: 'helloworld.Greeter' }, (error, value) =>
        error ? reject(error) : resolve(value?.status),
      ),
    );
    health.close();
    expect(serving).toBe('SERVING');

    const Reflection = loadProtos(
      fileURLToPath(new URL('fixtures/reflection.proto', import.meta.url)),
    ).client('grpc.reflection.v1.ServerReflection');
    const reflection = new Reflection(sample.grpc, credentials.createInsecure()) as unknown as {
      ServerReflectionInfo(): ClientDuplexStream<
        { list_services: string },
        { list_services_response?: { service: { name: string }[] } }
      >;
      close(): void;
    };
    const call = reflection.ServerReflectionInfo();
    const listed = new Promise<string[]>((resolve, reject) => {
      call.on('data', (message: { list_services_response?: { service: { name: string }[] } }) =>
        resolve(message.list_services_response?.service.map((s) => s.name) ?? []),
      );
      call.on('error', reject);
    });
    call.write({ list_services: '' });
    const names = await listed;
    call.end();
    reflection.close();
    expect(names).toEqual(expect.arrayContaining(['helloworld.Greeter', 'grpc.health.v1.Health']));
  });

  it('echoes over TCP', async () => {
    const echo = new EchoClient(sample.tcp.host, sample.tcp.port);
    await echo.connected;
    expect((await echo.send('ping')).ok).toBe(true);
    expect((await echo.send('pong pong')).ok).toBe(true);
    echo.close();
  });

  describe.skipIf(!hasChromium)('status page in headless Chromium', () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        // Root in a container has no user namespaces for Chromium's sandbox.
        args: ['--no-sandbox', '--disable-dev-shm-usage'],
      });
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('shows the services, the breaker, the pools and the counters, live, and keeps a screenshot', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${sample.http}/?interval=200`);

      // Live values: the page refreshes, and the probe's tick count moves between refreshes.
      // (Functions given to waitForFunction run in the page; strings keep DOM types out of here.)
      await page.waitForFunction("Number(document.getElementById('meta')?.dataset.refreshes) >= 2");
      const probeRow = page.locator('tr[data-service="UpstreamProbe"]');
      const ticks = async () =>
        Number(/ticks=(\d+)/.exec((await probeRow.textContent()) ?? '')?.[1]);
      const firstTicks = await ticks();
      await expect.poll(ticks, { timeout: 15_000 }).toBeGreaterThan(firstTicks);

      for (const name of [
        'ApiService',
        'GreeterService',
        'EchoService',
        'WorkerPoolService',
        'SampleCron',
      ]) {
        await expect
          .poll(() => page.locator(`tr[data-service="${name}"] .state`).textContent())
          .toBe('running');
      }
      // The breaker leaves PASSING under a 90 % failing upstream, and the page shows it.
      await page.waitForFunction(
        "document.getElementById('breaker')?.dataset.state !== 'PASSING'",
        undefined,
        { timeout: 20_000 },
      );
      const pools = (await page.locator('#pools').textContent()) ?? '';
      expect(pools).toMatch(/worker pool2 processes, pids \d+, \d+/);
      expect(pools).toMatch(/thread pool\d+ threads/);
      const statistics = (await page.locator('#statistics').textContent()) ?? '';
      for (const kind of [
        'CircuitBreakerStatistic',
        'HTTPStatistic',
        'GRPCMethodStatistic',
        'WorkerPoolStatistic',
      ])
        expect(statistics).toContain(kind);

      await page.screenshot({ path: `${artifacts}status.png`, fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    }, 45_000);
  });

  it('stops on SIGINT with exit code 0, its data file written through asyncOpen', async () => {
    sample.child.kill('SIGINT');
    expect(await sample.exited).toBe(0);
    const logs = records(sample);
    expect(logs.some((r) => /^wrote .*data\.txt\.gz \(1000 lines, gzip\)$/.test(r.msg))).toBe(true);
    expect(logs.some((r) => r.msg === 'Interrupt signal SIGINT received, shutting down...')).toBe(
      true,
    );
    expect(logs.some((r) => /circuit breaker PASSING -> BROKEN/.test(r.msg))).toBe(true);
  }, 30_000);
});
