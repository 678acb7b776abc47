// What the wrapper costs per unary call, in-process and without the network: the raw grpc-js
// handler against the same handler behind GRPCService's wrapper (statistics included), and an
// async handler behind it. The call is a plain EventEmitter with a request, as grpc-js's is.
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { round } from '@aiomisc/bench';
import { wrapHandler } from '../src/handlers';
import { GRPCMethodStatistic } from '../src/statistic';

type Handler = (call: unknown, callback: grpc.sendUnaryData<unknown>) => void;

const method = {
  path: '/helloworld.Greeter/SayHello',
  requestStream: false,
  responseStream: false,
} as grpc.MethodDefinition<unknown, unknown>;

const raw: Handler = (call, callback) => {
  callback(null, { message: `Hello, ${(call as { request: { name: string } }).request.name}!` });
};
const wrapped = wrapHandler(method, raw, new GRPCMethodStatistic('bench-wrapper')) as Handler;
const wrappedAsync = wrapHandler(
  method,
  async (call: { request: { name: string } }) => ({ message: `Hello, ${call.request.name}!` }),
  new GRPCMethodStatistic('bench-wrapper-async'),
) as Handler;

/** Nanoseconds per call of `handler` until its callback ran, over `count` sequential calls. */
async function nanosPerCall(handler: Handler, count: number): Promise<number> {
  const startedAt = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const call = Object.assign(new EventEmitter(), { request: { name: 'bench' } });
    await new Promise<void>((resolve) => handler(call, () => resolve()));
  }
  return Number(process.hrtime.bigint() - startedAt) / count;
}

export async function wrapperOverhead(count = 200_000): Promise<Record<string, number>> {
  for (const handler of [raw, wrapped, wrappedAsync]) await nanosPerCall(handler, 20_000);
  const figures = { raw: [] as number[], wrapped: [] as number[], async: [] as number[] };
  for (let round = 0; round < 5; round++) {
    figures.raw.push(await nanosPerCall(raw, count / 5));
    figures.wrapped.push(await nanosPerCall(wrapped, count / 5));
    figures.async.push(await nanosPerCall(wrappedAsync, count / 5));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[2]!;
  return {
    raw_ns_per_call: round(median(figures.raw)),
    wrapped_ns_per_call: round(median(figures.wrapped)),
    wrapped_async_ns_per_call: round(median(figures.async)),
  };
}
