// The sample process: every @aiomisc package in one entrypoint. Logging is configured by
// @aiomisc/log and the default thread pool installed by @aiomisc/pool, both loaded as core
// plugins because this app depends on them. SIGINT/SIGTERM stop it gracefully.
import { entrypoint, getLogger, InvalidArgumentError, type Service } from '@aiomisc/core';

import { getDefaultThreadPool } from '@aiomisc/pool';

import { ApiService } from './api-service.js';
import { loadConfig, helpText } from './config.js';
import { ConfigService } from './config-service.js';
import { EchoService } from './echo-service.js';
import { GreeterService } from './greeter-service.js';
import { HangOnStop, SampleCron, UpstreamProbe } from './jobs.js';
import { StatusBoard } from './status-board.js';
import { FlakyUpstream, UpstreamClient } from './upstream.js';
import { WorkerPoolService } from './worker-pool-service.js';

let parsed: ReturnType<typeof loadConfig>;
try {
  parsed = loadConfig(process.argv.slice(2));
} catch (error) {
  // A bad value (InvalidArgumentError) or an unknown flag (parseArgs' TypeError): say which, exit 64.
  const known = InvalidArgumentError.isInstance(error) || error instanceof TypeError;
  process.stderr.write(`${known ? error.message : String(error)}\n\n${helpText()}`);
  process.exit(64);
}
if (parsed.help) {
  process.stdout.write(helpText());
  process.exit(0);
}
const { config } = parsed;
const log = getLogger('sample');

let resolveApiStopped!: () => void;
const apiStopped = new Promise<void>((resolve) => (resolveApiStopped = resolve));

let resolveUpstreamUrl!: (url: string) => void;
const upstreamUrl = new Promise<string>((resolve) => (resolveUpstreamUrl = resolve));
const upstream = new UpstreamClient(upstreamUrl);

const services: Service<object>[] = [];
const board = new StatusBoard(services);

const flaky = new FlakyUpstream(
  {
    address: config.host,
    port: 0,
    statisticName: 'upstream',
    failureRate: config.upstreamFailureRate,
    outageEvery: config.upstreamOutageEvery,
    outageFor: config.upstreamOutageFor,
  },
  apiStopped,
);
const api = new ApiService(
  {
    address: config.host,
    port: config.httpPort,
    health: true,
    statisticName: 'api',
    drainDelay: config.drainDelay,
    shutdownTimeout: Math.max(config.shutdownTimeout / 2, 1),
  },
  { board, upstream, dataFile: config.dataFile, stopped: resolveApiStopped },
);
const workers = new WorkerPoolService({ size: config.workers }, apiStopped);
const greeter = new GreeterService(
  {
    health: true,
    reflection: true,
    compression: 'gzip',
    statisticName: 'greeter',
    stopTimeout: Math.max(config.shutdownTimeout * 0.8 - config.drainDelay, 0),
  },
  { listen: `${config.host}:${config.grpcPort}`, drainDelay: config.drainDelay },
);
const echo = new EchoService({
  address: config.host,
  port: config.tcpPort,
  statisticName: 'echo',
  drainDelay: config.drainDelay,
});
const probe = new UpstreamProbe({ interval: config.tickInterval }, upstream);
const cron = new SampleCron(config.cron);

services.push(
  new ConfigService({ greeting: config.greeting, dataFile: config.dataFile }),
  flaky,
  workers,
  api,
  greeter,
  echo,
  probe,
  cron,
);
if (config.hangOnStop) services.push(new HangOnStop());

board.section('breaker', () => upstream.describe());
board.section('pools', () => {
  const thread = getDefaultThreadPool();
  return {
    thread: { size: thread.size, queued: thread.queueSize },
    worker: workers.describe(),
  };
});

const ep = entrypoint({ services, shutdownTimeout: config.shutdownTimeout });
board.follow(ep);
// The upstream URL reaches the UpstreamClient through the context, like any value a service shares.
void ep.context.get<string>('upstream-url').then(resolveUpstreamUrl, () => undefined);
try {
  await ep.start();
} catch (error) {
  // The services that did start were stopped already; say why and exit non-zero.
  log.error({ err: error }, `sample failed to start: ${String(error)}`);
  process.exitCode = 1;
}
if (ep.isRunning) {
  log.info(`status page on http://${config.host}:${api.address().port}/`);
  log.info(`sample started with ${services.length} services (pid ${process.pid})`);
  await ep.closing();
}
