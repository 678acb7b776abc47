import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getLogger, getStatistics, Service } from '@aiomisc/core';
import type { AppConfig } from './config-service.js';
import { stretchHash } from './hash.js';
import type { HeartbeatService } from './heartbeat-service.js';
import type { UpstreamState } from './upstream-probe-service.js';

const log = getLogger('sample.status');

/** A small HTTP status page: waits for the config and the heartbeat in the context, then listens. */
export class StatusService extends Service<{ port?: number; host?: string }> {
  static override defaults = { port: 8080, host: '127.0.0.1' };
  #server: Server | undefined;

  async start() {
    const config = await this.context.get<AppConfig>('config');
    const heartbeat = await this.context.get<HeartbeatService>('heartbeat');
    let upstream: UpstreamState | undefined;
    void this.context.get<UpstreamState>('upstream').then(
      (state) => (upstream = state),
      () => undefined,
    );
    this.#server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === '/health') {
        response.end('{"ok":true}');
        return;
      }
      if (url.pathname === '/hash') {
        // CPU work goes to the default thread pool that @aiomisc/pool installed.
        const text = url.searchParams.get('text') ?? '';
        stretchHash(text, 10_000).then(
          (digest) => response.end(JSON.stringify({ text, rounds: 10_000, digest })),
          (error: unknown) => {
            response.statusCode = 500;
            response.end(JSON.stringify({ error: String(error) }));
          },
        );
        return;
      }
      response.end(
        JSON.stringify({
          greeting: config.greeting,
          startedAt: config.startedAt,
          beats: heartbeat.beats,
          upstream: upstream && {
            state: upstream.breaker.state,
            ok: upstream.ok,
            failed: upstream.failed,
            broken: upstream.broken,
          },
          statistics: getStatistics(),
        }),
      );
    });
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, resolve);
    });
    const { address, port } = server.address() as AddressInfo;
    this.context.set('status-url', `http://${address}:${port}/`);
    log.info(`status page on http://${address}:${port}/`);
  }

  override async stop() {
    const server = this.#server;
    if (!server) return;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
