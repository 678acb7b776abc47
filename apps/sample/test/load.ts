// Load generators for the end-to-end tests: each records, per request, when it was sent, whether
// its response started, and how it ended, so the test can tell accepted requests from refused ones.
import type { Agent } from 'node:http';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

import { credentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadProtos } from '@aiomisc/grpc';

import { root } from './helpers.js';

/** How one request (HTTP request, gRPC call, TCP line) went. */
export interface Outcome {
  kind: 'http' | 'grpc' | 'tcp';
  what: string;
  /** performance.now() when it was handed to the socket / channel. */
  sentAt: number;
  /** Whether any response (status line, reply) arrived. */
  responseStarted: boolean;
  ok: boolean;
  error?: string;
}

/** Runs `workers` loops of `once()` until `until()` is true or a loop sees a failure after the stop signal. */
export async function loop(
  workers: number,
  once: (worker: number, index: number) => Promise<Outcome>,
  sink: Outcome[],
  state: { signalAt: number; done: boolean },
): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let index = 0; !state.done; index++) {
        const outcome = await once(worker, index);
        sink.push(outcome);
        // Refused after the signal: the server is going away; this loop is done.
        if (!outcome.ok && state.signalAt > 0) return;
      }
    }),
  );
}

export function httpRequest(
  agent: Agent,
  url: string,
  check: (body: string) => boolean,
): Promise<Outcome> {
  const what = new URL(url).pathname;
  return new Promise((resolve) => {
    let settled = false;
    let responseStarted = false;
    const settle = (ok: boolean, error?: string) => {
      if (settled) return;
      settled = true;
      resolve({ kind: 'http', what, sentAt, responseStarted, ok, error });
    };
    const sentAt = performance.now();
    const request = get(url, { agent }, (response) => {
      responseStarted = true;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        settle(response.statusCode === 200 && check(body), `status ${response.statusCode}`),
      );
      response.on('aborted', () => settle(false, 'response aborted'));
      response.on('error', (error: NodeJS.ErrnoException) =>
        settle(false, error.code ?? error.message),
      );
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      settle(false, error.code ?? error.message),
    );
  });
}

type SayHello = (
  request: { name: string },
  options: { deadline: Date },
  callback: (error: ServiceError | null, reply?: { message: string }) => void,
) => void;

/** A Greeter client on the seed's hello.proto. */
export function greeterClient(address: string): Client & { SayHello: SayHello } {
  const Greeter = loadProtos(`${root}proto/hello.proto`).client('helloworld.Greeter');
  return new Greeter(address, credentials.createInsecure()) as unknown as Client & {
    SayHello: SayHello;
  };
}

export function grpcCall(
  client: { SayHello: SayHello },
  name: string,
  greeting = 'Hello',
): Promise<Outcome> {
  return new Promise((resolve) => {
    const sentAt = performance.now();
    client.SayHello({ name }, { deadline: new Date(Date.now() + 20_000) }, (error, reply) => {
      const ok = !error && reply?.message === `${greeting}, ${name}!`;
      resolve({
        kind: 'grpc',
        what: 'SayHello',
        sentAt,
        responseStarted: !error,
        ok,
        error: error ? `${error.code} ${error.details}` : undefined,
      });
    });
  });
}

/** A TCP connection that sends a line and waits for its echo, one at a time. */
export class EchoClient {
  readonly #socket: Socket;
  #buffer = '';
  #waiting: { line: string; resolve: (ok: boolean, error?: string) => void } | undefined;
  #closed: string | undefined;
  readonly connected: Promise<void>;

  constructor(host: string, port: number) {
    this.#socket = connect({ host, port });
    this.#socket.setEncoding('utf8');
    this.connected = new Promise((resolve, reject) => {
      this.#socket.once('connect', resolve);
      this.#socket.once('error', reject);
    });
    this.#socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      const waiting = this.#waiting;
      if (waiting && this.#buffer.includes('\n')) {
        const [line, ...rest] = this.#buffer.split('\n');
        this.#buffer = rest.join('\n');
        this.#waiting = undefined;
        waiting.resolve(line === waiting.line, line === waiting.line ? undefined : `got ${line}`);
      }
    });
    const close = (reason: string) => {
      this.#closed ??= reason;
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.resolve(false, reason);
    };
    this.#socket.on('error', (error: NodeJS.ErrnoException) => close(error.code ?? error.message));
    this.#socket.on('end', () => close('ended by the server'));
    this.#socket.on('close', () => close('closed'));
  }

  send(line: string): Promise<Outcome> {
    const sentAt = performance.now();
    return new Promise((resolve) => {
      const done = (ok: boolean, error?: string) =>
        resolve({ kind: 'tcp', what: 'echo', sentAt, responseStarted: ok, ok, error });
      if (this.#closed) return done(false, this.#closed);
      this.#waiting = { line, resolve: done };
      this.#socket.write(`${line}\n`);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}
