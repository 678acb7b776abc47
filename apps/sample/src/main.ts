// The sample process: services sharing context, a periodic job, an outbound call behind a
// retry and a circuit breaker, logging configured by @aiomisc/log (loaded as a plugin because
// this app depends on it), graceful stop on Ctrl+C.
import { entrypoint } from '@aiomisc/core';
import { ConfigService } from './config-service.js';
import { HeartbeatService } from './heartbeat-service.js';
import { StatusService } from './status-service.js';
import { UpstreamProbeService } from './upstream-probe-service.js';

const ep = await entrypoint({
  services: [
    new StatusService({ port: Number(process.env.PORT ?? 8080) }),
    new HeartbeatService({ intervalMs: Number(process.env.HEARTBEAT_MS ?? 5000) }),
    new ConfigService(),
    new UpstreamProbeService({
      url: process.env.UPSTREAM_URL,
      intervalMs: Number(process.env.PROBE_MS ?? 1000),
    }),
  ],
}).start();

await ep.closing();
