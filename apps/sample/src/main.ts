// The sample process: services sharing context, a periodic job, graceful stop on Ctrl+C.
import { entrypoint } from '@aiomisc/core';
import { ConfigService } from './config-service';
import { HeartbeatService } from './heartbeat-service';
import { StatusService } from './status-service';

const ep = await entrypoint({
  services: [
    new StatusService({ port: Number(process.env.PORT ?? 8080) }),
    new HeartbeatService({ intervalMs: Number(process.env.HEARTBEAT_MS ?? 5000) }),
    new ConfigService(),
  ],
}).start();

await ep.closing();
