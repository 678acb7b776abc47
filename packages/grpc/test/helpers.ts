import { createRequire } from 'node:module';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'vitest';
import { loadProtos } from '../src/index';

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

export const protos = loadProtos([fixture('hello.proto'), fixture('numbers.proto')]);
export const Greeter = protos.client('helloworld.Greeter');
export const Numbers = protos.client('test.numbers.Numbers');

const reflectionDir = dirname(
  createRequire(import.meta.url).resolve('@grpc/reflection/package.json'),
);
export const reflectionProtos = loadProtos(
  join(reflectionDir, 'build/proto/grpc/reflection/v1/reflection.proto'),
);

export interface Reply {
  message: string;
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, reply: unknown) => void,
) => grpc.ClientUnaryCall;

/** One unary call as a promise (deadline 10 s unless given). */
export function unary<TReply = Reply>(
  client: grpc.Client,
  method: string,
  request: unknown,
  options: grpc.CallOptions = {},
): Promise<TReply> {
  const fn = (client as unknown as Record<string, UnaryMethod>)[method]!;
  return new Promise((resolve, reject) => {
    fn.call(
      client,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000, ...options },
      (error, reply) => (error ? reject(error) : resolve(reply as TReply)),
    );
  });
}

/** The ServiceError a call rejected with (fails the test when it resolved). */
export async function callError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    expect((error as grpc.ServiceError).code).toBeTypeOf('number');
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** Collects a server stream's messages; rejects with its error status. */
export function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const messages: T[] = [];
    stream.on('data', (message: T) => messages.push(message));
    stream.on('error', (error) => reject(Object.assign(error, { messages })));
    stream.on('end', () => resolve(messages));
  });
}

/** Whether 127.0.0.1:`port` can be listened on (nothing holds it). */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

/** A TCP server on 127.0.0.1:0 that holds its port. */
export async function occupyPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A TCP proxy to 127.0.0.1:`target` that counts the bytes going each way. */
export async function countingProxy(target: number): Promise<{
  port: number;
  sent: () => number;
  received: () => number;
  close(): Promise<void>;
}> {
  let sent = 0;
  let received = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(socket).add(upstream);
    socket.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      socket.write(chunk);
    });
    const close = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    sent: () => sent,
    received: () => received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A promise and its resolve function. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Waits until `predicate()` is true (polling every 10 ms, up to 10 s). */
export async function until(predicate: () => boolean, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The test.numbers.Numbers client, typed. */
export interface NumbersClient extends grpc.Client {
  Count(request: { up_to: number }): grpc.ClientReadableStream<{ value: number }>;
  Sum(
    callback: (error: grpc.ServiceError | null, reply: unknown) => void,
  ): grpc.ClientWritableStream<{ value: number }>;
  Echo(): grpc.ClientDuplexStream<{ value: number }, { value: number }>;
}

export function numbersClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
): NumbersClient {
  return new Numbers(address, credentials, options) as unknown as NumbersClient;
}
