// The server side of the bench, run in a child process (`tsx bench/server.ts <mode>`) so that
// the client and the server each get a CPU: raw grpc-js, or GRPCService with the same handlers.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GRPCService, loadProtos } from '../src/index';

type Mode = 'raw' | 'raw_microtask' | 'aiomisc' | 'aiomisc_async';

const PROTO = fileURLToPath(new URL('hello.proto', import.meta.url));
const PROTO_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

interface HelloRequest {
  name: string;
  count: number;
}

// The handlers every mode serves (grpc-js's own shapes).
const sayHello: grpc.handleUnaryCall<HelloRequest, { message: string }> = (call, callback) => {
  callback(null, { message: `Hello, ${call.request.name}!` });
};
const sayHelloStream: grpc.handleServerStreamingCall<HelloRequest, { message: string }> = (
  call,
) => {
  const reply = { message: `Hello, ${call.request.name}!` };
  let left = call.request.count;
  const pump = (): void => {
    while (left > 0) {
      left--;
      if (!call.write(reply)) {
        call.once('drain', pump);
        return;
      }
    }
    call.end();
  };
  pump();
};

// Raw grpc-js replying one microtask later, as a promise-returning handler does: the control
// row that tells the cost of an async reply from the cost of GRPCService's wrapper.
const sayHelloMicrotask: grpc.handleUnaryCall<HelloRequest, { message: string }> = (
  call,
  callback,
) => {
  void Promise.resolve().then(() => callback(null, { message: `Hello, ${call.request.name}!` }));
};

// The same work as async functions: the form GRPCService adds.
const asyncHandlers = {
  SayHello: async (call: grpc.ServerUnaryCall<HelloRequest, unknown>) => ({
    message: `Hello, ${call.request.name}!`,
  }),
  SayHelloStream: async function* (call: grpc.ServerWritableStream<HelloRequest, unknown>) {
    const reply = { message: `Hello, ${call.request.name}!` };
    for (let left = call.request.count; left > 0; left--) yield reply;
  },
};

async function serve(mode: Mode): Promise<{ port: number; stop(): Promise<void> }> {
  if (mode === 'raw' || mode === 'raw_microtask') {
    const definition = protoLoader.loadSync(PROTO, PROTO_OPTIONS);
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      helloworld: { Greeter: grpc.ServiceClientConstructor };
    };
    const server = new grpc.Server();
    server.addService(proto.helloworld.Greeter.service, {
      SayHello: mode === 'raw' ? sayHello : sayHelloMicrotask,
      SayHelloStream: sayHelloStream,
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    return { port, stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
  }
  const service = new GRPCService({ statisticName: 'bench' });
  service.addService(
    loadProtos(PROTO).service('helloworld.Greeter'),
    mode === 'aiomisc' ? { SayHello: sayHello, SayHelloStream: sayHelloStream } : asyncHandlers,
  );
  service.addInsecurePort('127.0.0.1:0');
  await service.start();
  return { port: service.ports[0]!.port, stop: () => service.stop() };
}

const mode = process.argv[2] as Mode;
const server = await serve(mode);
let mark = process.cpuUsage();
let markAt = performance.now();
process.on('message', (message: string) => {
  if (message === 'mark') {
    mark = process.cpuUsage();
    markAt = performance.now();
    process.send!({ marked: true });
  } else if (message === 'cpu') {
    const used = process.cpuUsage(mark);
    const wall = performance.now() - markAt;
    process.send!({
      cpuPct: ((used.user + used.system) / 1000 / wall) * 100,
      cpuMicros: used.user + used.system,
    });
  } else if (message === 'stop') {
    void server.stop().then(() => process.exit(0));
  }
});
process.send!({ port: server.port });
