import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getLogger, getStatistics, Service } from '@aiomisc/core';
import type { AppConfig } from './config-service';
import type { HeartbeatService } from './heartbeat-service';
import type { UpstreamState } from './upstream-probe-service';

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
      if (request.url === '/health') {
        response.end('{"ok":true}');
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
