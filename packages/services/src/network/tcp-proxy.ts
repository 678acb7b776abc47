import { connect, createServer, type Server, type Socket } from 'node:net';

import {
  InvalidArgumentError,
  InvalidStateError,
  expectNumber,
  getLogger,
  setLongTimeout,
  type LongTimeout,
} from '@aiomisc/core';

import type { BoundAddress } from './options';
import { validateTarget } from './options';

const log = getLogger('aiomisc.services.tcp-proxy');

/** Options of {@link TCPProxy}. */
export interface TCPProxyOptions {
  /** Where the proxy forwards to. @default '127.0.0.1' */
  targetAddress?: string;
  /** The server's port. Required. */
  targetPort: number;
  /** The address the proxy listens on. @default '127.0.0.1' */
  address?: string;
  /** The port the proxy listens on; 0 picks a free one. @default 0 */
  port?: number;
}

/** Rewrites a chunk passing through a {@link TCPProxy}; an empty result drops it. */
export type ChunkProcessor = (chunk: Buffer) => Buffer;

interface Chunk {
  data: Buffer;
  due: number;
}

/** One direction of one proxied connection: data from `source` written to `target`. */
class Flow {
  readonly #queue: Chunk[] = [];
  #timer: LongTimeout | undefined;
  #ended = false;

  constructor(
    private readonly proxy: TCPProxy,
    private readonly source: Socket,
    private readonly target: Socket,
    private readonly direction: 'read' | 'write',
  ) {
    source.on('data', (data: Buffer) => this.#push(data));
    source.once('end', () => {
      this.#ended = true;
      this.flush();
    });
  }

  #push(chunk: Buffer): void {
    const processor = this.proxy.processors[this.direction];
    const data = processor === undefined ? chunk : processor(chunk);
    if (data.length === 0) return;
    const delay = this.proxy.delays[this.direction];
    if (!this.proxy.paused && delay === 0 && this.#queue.length === 0) {
      this.#write(data);
      return;
    }
    this.#queue.push({ data, due: performance.now() + delay });
    this.flush();
  }

  #write(data: Buffer): void {
    if (this.target.destroyed) return;
    if (!this.target.write(data)) {
      this.source.pause();
      this.target.once('drain', () => this.source.resume());
    }
  }

  /** Writes every chunk that is due (nothing while paused) and arms a timer for the next. */
  flush(): void {
    if (this.#timer !== undefined) {
      this.#timer.clear();
      this.#timer = undefined;
    }
    if (this.proxy.paused) return;
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0]!.due <= now)
      this.#write(this.#queue.shift()!.data);
    if (this.#queue.length > 0) {
      this.#timer = setLongTimeout(() => this.flush(), this.#queue[0]!.due - now);
    } else if (this.#ended && !this.target.destroyed) {
      this.target.end();
    }
  }

  clear(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#queue.length = 0;
  }
}

/**
 * A TCP proxy between a client and a server for tests (the seed's `TCPProxy`): slow either
 * direction down (`setDelay`), hold all traffic (`pause`/`resume`), and cut every connection at
 * once (`disconnectAll`). `read` is the server-to-client direction (what the client reads),
 * `write` the client-to-server one. Start it, point the client at `proxy.port`, close it at the
 * end (or `await using`).
 *
 * @example
 * ```ts
 * await using proxy = new TCPProxy({ targetPort: server.address().port });
 * await proxy.start();
 * proxy.setDelay(50, 0); // replies arrive 50 ms later
 * await proxy.disconnectAll(); // the client sees its connection reset
 * ```
 */
export class TCPProxy implements AsyncDisposable {
  /** Delays in ms: `read` server to client, `write` client to server. */
  readonly delays = { read: 0, write: 0 };
  /** Content processors (see {@link TCPProxy.setContentProcessors}). */
  readonly processors: { read?: ChunkProcessor; write?: ChunkProcessor } = {};
  #paused = false;
  readonly #target: { address: string; port: number };
  readonly #listen: { address: string; port: number };
  #server: Server | undefined;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket; flows: Flow[] }>();

  constructor(options: TCPProxyOptions) {
    this.#target = validateTarget({ address: options.targetAddress, port: options.targetPort });
    this.#listen = {
      address: options.address ?? '127.0.0.1',
      port: expectNumber('port', options.port ?? 0, { min: 0, max: 65535, integer: true }),
    };
  }

  /** Whether traffic is held (see {@link TCPProxy.pause}). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Connections open through the proxy. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** The port the proxy listens on (after `start()`). */
  get port(): number {
    return this.address().port;
  }

  /**
   * The bound `{ address, family, port }`.
   * @throws {@link InvalidStateError} before `start()`.
   */
  address(): BoundAddress {
    const bound = this.#server?.address();
    if (!bound || typeof bound !== 'object') throw new InvalidStateError('TCPProxy is not started');
    return { address: bound.address, family: bound.family, port: bound.port };
  }

  /** Listens; resolves once connections are accepted. */
  async start(): Promise<void> {
    if (this.#server !== undefined) throw new InvalidStateError('TCPProxy is already started');
    const server = createServer({ allowHalfOpen: true }, (client) => this.#accept(client));
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.#listen.address, port: this.#listen.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.#server = undefined;
      server.close();
      throw error;
    }
    server.on('error', (error: Error) => log.error({ err: error }, 'TCPProxy listener error'));
  }

  #accept(client: Socket): void {
    const upstream = connect({
      host: this.#target.address,
      port: this.#target.port,
      allowHalfOpen: true,
    });
    const flows = [
      new Flow(this, client, upstream, 'write'),
      new Flow(this, upstream, client, 'read'),
    ];
    const pair = { client, upstream, flows };
    this.#pairs.add(pair);
    let open = 2;
    const onClose = () => {
      client.destroy();
      upstream.destroy();
      for (const flow of flows) flow.clear();
      if (--open === 0) this.#pairs.delete(pair);
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
    client.on('error', () => {});
    upstream.on('error', () => {});
  }

  /** Sets the delays in ms: `read` server to client, `write` client to server. */
  setDelay(read: number, write = 0): void {
    this.delays.read = expectNumber('read', read, { min: 0 });
    this.delays.write = expectNumber('write', write, { min: 0 });
  }

  /**
   * Sets delays until the returned handle is disposed, then restores the previous ones (the
   * seed's `slowdown`): `using _ = proxy.slowdown(100, 100)`.
   */
  slowdown(read: number, write = read): Disposable & { restore(): void } {
    const previous = { ...this.delays };
    this.setDelay(read, write);
    const restore = () => this.setDelay(previous.read, previous.write);
    return { restore, [Symbol.dispose]: restore };
  }

  /**
   * Rewrites the chunks of each direction (the seed's `set_content_processors`): `read` server to
   * client, `write` client to server; `undefined` passes chunks as they are, an empty Buffer
   * drops the chunk. Applies to chunks arriving from now on.
   */
  setContentProcessors(read?: ChunkProcessor, write?: ChunkProcessor): void {
    for (const [name, processor] of [
      ['read', read],
      ['write', write],
    ] as const) {
      if (processor !== undefined && typeof processor !== 'function') {
        throw new InvalidArgumentError(name, processor, 'a function or undefined');
      }
      if (processor === undefined) delete this.processors[name];
      else this.processors[name] = processor;
    }
  }

  /** Holds all traffic in both directions (connections stay open) until {@link TCPProxy.resume}. */
  pause(): void {
    this.#paused = true;
  }

  /** Releases held traffic, in order. */
  resume(): void {
    this.#paused = false;
    for (const pair of this.#pairs) for (const flow of pair.flows) flow.flush();
  }

  /** Cuts every connection (both sides are reset); resolves once they are closed. */
  async disconnectAll(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const { client, upstream } of this.#pairs) {
      for (const socket of [client, upstream]) {
        if (!socket.closed) {
          closing.push(new Promise((resolve) => socket.once('close', () => resolve())));
        }
        if (socket.connecting || socket.destroyed) socket.destroy();
        else socket.resetAndDestroy();
      }
    }
    await Promise.all(closing);
  }

  /** Stops listening and cuts every connection. Safe to call twice. */
  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await this.disconnectAll();
    await closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
