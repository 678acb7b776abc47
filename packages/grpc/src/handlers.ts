import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { GRPCMethodStatistic } from './statistic';

/**
 * One method of a service implementation given to `GRPCService.addService`. Every grpc-js
 * handler is one, and so are these shorter forms:
 * - unary and client-streaming: `async (call) => reply` (a function of one parameter; the
 *   reply it returns or resolves to is sent, what it throws becomes the status), or grpc-js's
 *   `(call, callback) => void` (two parameters);
 * - server-streaming and bidi: `async (call) => { call.write(...) }` (the call is ended when the
 *   promise resolves), an async generator `async function* (call) { yield reply }` (each
 *   value is written, waiting for the client when it is slow), or grpc-js's `(call) => void`
 *   that ends the call itself.
 */
// Messages of a .proto loaded without code generation have no static type; a handler may
// annotate its call (`grpc.ServerUnaryCall<Request, Reply>`) to get one.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GRPCHandler = (call: any, callback: grpc.sendUnaryData<any>) => unknown;

/** A service implementation: method name (as in the `.proto`, or camelCase) to handler. */
export type ServiceImplementation = Record<string, GRPCHandler>;

/** What a handler's error becomes: the status sent to the client. */
export interface ErrorStatus extends grpc.ServerErrorResponse {
  code: grpc.status;
  details: string;
}

/**
 * The status a thrown (or rejected, or passed to the callback) value becomes: an error whose
 * `code` is a gRPC status code from 1 to 16 keeps it (with its `details` if it has them, else
 * its message, and its `metadata`); anything else is INTERNAL with the error's message. The
 * stack never reaches the client.
 *
 * @example
 * ```ts
 * toErrorStatus(Object.assign(new Error('no such user'), { code: status.NOT_FOUND }));
 * // { code: 5, details: 'no such user', ... }
 * ```
 */
export function toErrorStatus(error: unknown): ErrorStatus {
  let code: number = grpc.status.INTERNAL;
  let details: string;
  let metadata: grpc.Metadata | undefined;
  if (typeof error === 'object' && error !== null) {
    const fields = error as {
      code?: unknown;
      details?: unknown;
      message?: unknown;
      metadata?: unknown;
    };
    const hasCode =
      typeof fields.code === 'number' &&
      Number.isInteger(fields.code) &&
      fields.code >= 1 &&
      fields.code <= 16;
    if (hasCode) code = fields.code as number;
    details =
      hasCode && typeof fields.details === 'string'
        ? fields.details
        : typeof fields.message === 'string'
          ? fields.message
          : typeof fields.details === 'string'
            ? fields.details
            : 'internal error';
    if (fields.metadata instanceof grpc.Metadata) metadata = fields.metadata;
  } else {
    details = String(error);
  }
  return { name: 'Error', message: details, code, details, metadata };
}

interface CallLike {
  cancelled: boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

interface WritableCall extends CallLike {
  destroyed: boolean;
  writableEnded: boolean;
  write(message: unknown): boolean;
  end(): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function isIterable(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (Symbol.asyncIterator in value || Symbol.iterator in value)
  );
}

/**
 * Wraps a handler for grpc-js: async forms, error to status, statistics.
 * @internal
 */
export function wrapHandler(
  method: grpc.MethodDefinition<unknown, unknown>,
  handler: GRPCHandler,
  statistic: GRPCMethodStatistic,
): grpc.UntypedHandleCall {
  if (method.responseStream) return wrapStreaming(handler, statistic, method.requestStream);
  return handler.length >= 2
    ? wrapCallbackReply(handler, statistic)
    : wrapAsyncReply(handler, statistic, method.path.slice(method.path.lastIndexOf('/') + 1));
}

/**
 * Counts a call in and returns its one-shot finish: the first status code given is the call's
 * (later ones, such as a reply after a cancel, return false and count nothing).
 */
function countCall(statistic: GRPCMethodStatistic): (code: number) => boolean {
  statistic.calls++;
  statistic.in_flight++;
  let settled = false;
  return (code) => {
    if (settled) return false;
    settled = true;
    statistic.finish(code);
    return true;
  };
}

function wrapAsyncReply(
  handler: GRPCHandler,
  statistic: GRPCMethodStatistic,
  name: string,
): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const finish = countCall(statistic);
    (call as unknown as CallLike).on('cancelled', () => finish(grpc.status.CANCELLED));
    const fail = (error: unknown): void => {
      const errorStatus = toErrorStatus(error);
      if (finish(errorStatus.code)) callback(errorStatus);
    };
    const reply = (value: unknown): void => {
      if (value === undefined) fail(new Error(`${name} returned no reply`));
      else if (finish(grpc.status.OK)) callback(null, value);
    };
    let result: unknown;
    try {
      result = handler(call, undefined as never);
    } catch (error) {
      fail(error);
      return;
    }
    if (isThenable(result)) result.then(reply, fail);
    else reply(result);
  };
}

function wrapCallbackReply(
  handler: GRPCHandler,
  statistic: GRPCMethodStatistic,
): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const finish = countCall(statistic);
    (call as unknown as CallLike).on('cancelled', () => finish(grpc.status.CANCELLED));
    const respond: grpc.sendUnaryData<unknown> = (error, value, trailer, flags) => {
      if (error) {
        const errorStatus = toErrorStatus(error);
        if (finish(errorStatus.code)) callback(errorStatus, null, trailer, flags);
      } else if (finish(grpc.status.OK)) {
        callback(null, value, trailer, flags);
      }
    };
    let result: unknown;
    try {
      result = handler(call, respond);
    } catch (error) {
      respond(toErrorStatus(error));
      return;
    }
    if (isThenable(result))
      result.then(undefined, (error: unknown) => respond(toErrorStatus(error)));
  };
}

function wrapStreaming(
  handler: GRPCHandler,
  statistic: GRPCMethodStatistic,
  bidi: boolean,
): grpc.handleServerStreamingCall<unknown, unknown> {
  return (serverCall) => {
    const call = serverCall as unknown as WritableCall;
    // Node's default async iterator destroys the stream once the requests end, and a
    // destroyed call can no longer send its replies or its status.
    if (bidi) {
      const duplex = serverCall as unknown as Duplex;
      Object.defineProperty(duplex, Symbol.asyncIterator, {
        value: () => duplex.iterator({ destroyOnReturn: false }),
        configurable: true,
        writable: true,
      });
    }
    const finish = countCall(statistic);
    let errorCode: number | undefined;
    call.on('error', (error) => {
      // grpc-js's own listener turns the error into the status the same way
      const code = (error as { code?: unknown } | null)?.code;
      errorCode = typeof code === 'number' && Number.isInteger(code) ? code : grpc.status.UNKNOWN;
    });
    call.on('finish', () => finish(errorCode ?? grpc.status.OK));
    call.on('cancelled', () => finish(grpc.status.CANCELLED));
    call.on('close', () => finish(errorCode ?? grpc.status.CANCELLED));
    const fail = (error: unknown): void => {
      if (call.cancelled || call.destroyed || call.writableEnded) return;
      call.emit('error', toErrorStatus(error));
    };
    let result: unknown;
    try {
      result = handler(serverCall, undefined as never);
    } catch (error) {
      fail(error);
      return;
    }
    if (result === undefined || result === null) return;
    if (isThenable(result)) {
      Promise.resolve(result)
        .then((value) => (isIterable(value) ? pipe(call, value, fail) : endOpen(call)))
        .catch(fail);
    } else if (isIterable(result)) {
      pipe(call, result, fail);
    }
  };
}

function endOpen(call: WritableCall): void {
  if (!call.writableEnded && !call.destroyed) call.end();
}

function drained(call: WritableCall): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
}

function pipe(
  call: WritableCall,
  messages: AsyncIterable<unknown> | Iterable<unknown>,
  fail: (error: unknown) => void,
): void {
  const run = async (): Promise<void> => {
    for await (const message of messages) {
      if (call.cancelled || call.destroyed || call.writableEnded) return;
      if (!call.write(message)) await drained(call);
    }
    endOpen(call);
  };
  run().catch(fail);
}
