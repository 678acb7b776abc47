import { serviceName } from '@aiomisc/core';

import { BaseHTTPService, type RequestListener } from './base-http-service';
import { InvalidApplicationError } from './errors/invalid-application-error';
import type { HTTPServiceOptions, HTTPSServiceOptions } from './options';

/**
 * Any Node request listener as a service (express, koa's `app.callback()`, hono's
 * `getRequestListener`, a bare `(req, res) => void`): the seed's ASGI and uvicorn services.
 * Implement `createHandler()` (sync or async). A handler that throws, or whose promise
 * rejects, gets a 500 (when nothing was sent yet) and the server keeps serving.
 *
 * @example
 * ```ts
 * class Hello extends HTTPService {
 *   createHandler() {
 *     return (req: IncomingMessage, res: ServerResponse) => res.end('hello');
 *   }
 * }
 * await entrypoint({ services: [new Hello({ port: 8080 })] }).start();
 * ```
 */
export abstract class HTTPService<
  TOptions extends HTTPServiceOptions = HTTPServiceOptions,
> extends BaseHTTPService<TOptions> {
  /** Returns the request listener to serve. */
  abstract createHandler(): RequestListener | PromiseLike<RequestListener>;

  /** @internal */
  protected override async createRequestListener(): Promise<RequestListener> {
    const handler: unknown = await this.createHandler();
    if (typeof handler !== 'function') {
      throw new InvalidApplicationError(
        serviceName(this),
        `createHandler() must return a request listener function, got ${handler === null ? 'null' : typeof handler}`,
      );
    }
    return handler as RequestListener;
  }
}

/**
 * {@link HTTPService} over TLS: `cert`, `key`, `ca`, `verify` as the TLS servers of
 * `@aiomisc/services` take them, and `http2: true` for HTTP/2 (compatibility API, with
 * HTTP/1.1 fallback).
 */
export abstract class HTTPSService<
  TOptions extends HTTPSServiceOptions = HTTPSServiceOptions,
> extends HTTPService<TOptions> {
  protected static override secure = true;
}
