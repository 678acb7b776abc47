import type { Server as HttpServer } from 'node:http';

import { serviceName } from '@aiomisc/core';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';

import { BaseHTTPService, type NodeServer, type RequestListener } from './base-http-service';
import { InvalidApplicationError } from './errors/invalid-application-error';
import type { HTTPServiceOptions, HTTPSServiceOptions } from './options';

/** What `createApplication()` gets: pass it to `fastify()` as it is, adding your own options. */
export type FastifyApplicationOptions = FastifyHttpOptions<HttpServer>;

/** The fastify options a service passes on (everything but how the server is made). */
export type FastifyOptions = Omit<
  FastifyApplicationOptions,
  'serverFactory' | 'https' | 'http2' | 'http'
>;

/** A fastify instance of any server type, as `createApplication()` returns it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFastifyInstance = FastifyInstance<any, any, any, any, any>;

/** Options of {@link FastifyService}. */
export interface FastifyServiceOptions extends HTTPServiceOptions {
  /** fastify options merged into what `createApplication()` receives. @default {} */
  fastify?: FastifyOptions;
}

/** Options of {@link FastifyHTTPSService}. */
export interface FastifyHTTPSServiceOptions extends FastifyServiceOptions, HTTPSServiceOptions {}

function isFastify(value: unknown): value is AnyFastifyInstance {
  if (typeof value !== 'object' || value === null) return false;
  const app = value as Record<string | symbol, unknown>;
  return (
    Symbol.for('registered-plugin') in app &&
    typeof app.ready === 'function' &&
    typeof app.close === 'function' &&
    typeof app.route === 'function' &&
    typeof app.inject === 'function'
  );
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return typeof value;
}

/**
 * A fastify application as a service: the seed's `AIOHTTPService`. Implement
 * `createApplication(options)` (sync or async) and build the app with `fastify(options)`: the
 * options carry a `serverFactory`, so the app is served by the service's own server, which
 * binds `address`:`port`, counts requests, answers the health routes and drains at stop.
 * fastify's `onClose` hooks run after the drain.
 *
 * @example
 * ```ts
 * class Api extends FastifyService {
 *   createApplication(options: FastifyApplicationOptions) {
 *     const app = fastify(options);
 *     app.get('/', async () => ({ hello: 'world' }));
 *     return app;
 *   }
 * }
 * await entrypoint({ services: [new Api({ port: 8080, health: true })] }).start();
 * ```
 */
export abstract class FastifyService<
  TOptions extends FastifyServiceOptions = FastifyServiceOptions,
> extends BaseHTTPService<TOptions> {
  #application: AnyFastifyInstance | undefined;

  /**
   * Builds the fastify instance; pass `options` to `fastify()`.
   * @throws whatever it throws fails `start()`, before anything is bound.
   */
  abstract createApplication(
    options: FastifyApplicationOptions,
  ): AnyFastifyInstance | PromiseLike<AnyFastifyInstance>;

  /** The fastify instance while the service runs. */
  get application(): AnyFastifyInstance | undefined {
    return this.#application;
  }

  /** @internal */
  protected override async createRequestListener(server: NodeServer): Promise<RequestListener> {
    let handler: RequestListener | undefined;
    const options = {
      ...this.options.fastify,
      serverFactory: (fastifyHandler: RequestListener) => {
        handler = fastifyHandler;
        return server as HttpServer;
      },
    } as FastifyApplicationOptions;
    const application: unknown = await this.createApplication(options);
    if (!isFastify(application)) {
      throw new InvalidApplicationError(
        serviceName(this),
        `createApplication() must return a fastify instance, got ${describe(application)}`,
      );
    }
    this.#application = application;
    if (handler === undefined || application.server !== server) {
      throw new InvalidApplicationError(
        serviceName(this),
        'createApplication() must pass its options argument to fastify(): this instance made its own server, which the service does not serve',
      );
    }
    this.#applyServerConfig(application, server);
    await application.ready();
    return handler;
  }

  /**
   * fastify sets its server-level options (`keepAliveTimeout` 72 s, `requestTimeout` 0,
   * `connectionTimeout`, `maxRequestsPerSocket`) on the server it makes; with a `serverFactory`
   * it does not, so the service sets them on its own server, as raw fastify would have them,
   * unless the service's `server` options name them.
   */
  #applyServerConfig(application: AnyFastifyInstance, server: NodeServer): void {
    if (!('requestTimeout' in server)) return; // HTTP/2: sessions have their own timeouts
    type Timeouts = {
      keepAliveTimeout?: number;
      requestTimeout?: number;
      connectionTimeout?: number;
      maxRequestsPerSocket?: number | null;
    };
    // fastify's types list only some of these, but its initialConfig holds them all.
    const config = application.initialConfig as Timeouts;
    const own = (this.options.server ?? {}) as Timeouts;
    if (own.keepAliveTimeout === undefined && config.keepAliveTimeout !== undefined) {
      server.keepAliveTimeout = config.keepAliveTimeout;
    }
    if (own.requestTimeout === undefined && config.requestTimeout !== undefined) {
      server.requestTimeout = config.requestTimeout;
    }
    if (own.maxRequestsPerSocket === undefined && config.maxRequestsPerSocket) {
      server.maxRequestsPerSocket = config.maxRequestsPerSocket;
    }
    if (config.connectionTimeout) server.setTimeout(config.connectionTimeout);
  }

  /** Runs fastify's `close()` (its `onClose` hooks) once the server has drained. @internal */
  protected override async afterClose(): Promise<void> {
    const application = this.#application;
    this.#application = undefined;
    if (application) await application.close();
  }
}

/**
 * {@link FastifyService} over TLS (the seed's `AIOHTTPSSLService`): `cert`, `key`, `ca` and
 * `verify` as the TLS servers of `@aiomisc/services` take them (PEM or paths; with `ca`,
 * client certificates are required and checked), and `http2: true` for HTTP/2 with HTTP/1.1
 * fallback.
 */
export abstract class FastifyHTTPSService<
  TOptions extends FastifyHTTPSServiceOptions = FastifyHTTPSServiceOptions,
> extends FastifyService<TOptions> {
  protected static override secure = true;
}
