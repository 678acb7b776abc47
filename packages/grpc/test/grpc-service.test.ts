import * as grpc from '@grpc/grpc-js';
import { getStatistics } from '@aiomisc/core';
import { makeCertificates, systemCommand, type Certificates } from '@aiomisc/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GRPCService,
  loadHealthProtos,
  toErrorStatus,
  type ServiceImplementation,
} from '../src/index';
import {
  callError,
  collect,
  countingProxy,
  Greeter,
  numbersClient,
  type NumbersClient,
  protos,
  reflectionProtos,
  unary,
  type Reply,
} from './helpers';

interface NumberMessage {
  value: number;
}

const greeter: ServiceImplementation = {
  SayHello: async (call: grpc.ServerUnaryCall<{ name: string }, Reply>) => ({
    message: `Hello, ${call.request.name}!`,
  }),
};

let generatorFinished = 0;

const numbersImplementation: ServiceImplementation = {
  Count: async function* (call: grpc.ServerWritableStream<{ up_to: number }, NumberMessage>) {
    try {
      for (let value = 1; value <= call.request.up_to; value++) {
        if (value === 1000)
          throw Object.assign(new Error('too many'), { code: grpc.status.OUT_OF_RANGE });
        yield { value };
      }
    } finally {
      generatorFinished++;
    }
  },
  Sum: async (call: grpc.ServerReadableStream<NumberMessage, unknown>) => {
    let sum = 0;
    let count = 0;
    for await (const message of call as AsyncIterable<NumberMessage>) {
      sum += message.value;
      count++;
    }
    return { sum, count };
  },
  Echo: async function* (call: grpc.ServerDuplexStream<NumberMessage, NumberMessage>) {
    for await (const message of call as AsyncIterable<NumberMessage>)
      yield { value: message.value * 2 };
  },
  Payload: async (call: grpc.ServerUnaryCall<{ text: string }, unknown>) => ({
    text: call.request.text,
  }),
};

const clients: grpc.Client[] = [];
function track<T extends grpc.Client>(client: T): T {
  clients.push(client);
  return client;
}

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

describe.skipIf(!systemCommand('openssl', { install: 'apt-get install openssl' }))(
  'GRPCService serving the seed Greeter',
  () => {
    let certificates: Certificates;
    let service: GRPCService;
    let insecure: number;
    let secure: number;

    beforeAll(async () => {
      certificates = makeCertificates();
      service = new GRPCService({
        compression: 'gzip',
        health: true,
        reflection: true,
        statisticName: 'serving',
      });
      service.addService(protos.service('helloworld.Greeter'), greeter);
      service.addService(protos.service('test.numbers.Numbers'), numbersImplementation);
      service.addInsecurePort('127.0.0.1:0');
      service.addSecurePort('127.0.0.1:0', {
        cert: certificates.server.cert,
        key: certificates.server.key,
      });
      await service.start();
      [insecure, secure] = service.ports.map((port) => port.port) as [number, number];
    });

    afterAll(async () => {
      await service?.stop();
      certificates?.cleanup();
    });

    it('binds both ports on port 0 before start() resolves', () => {
      expect(service.ports).toEqual([
        { address: '127.0.0.1:0', port: insecure, secure: false },
        { address: '127.0.0.1:0', port: secure, secure: true },
      ]);
      expect(insecure).toBeGreaterThan(0);
      expect(secure).toBeGreaterThan(0);
      expect(secure).not.toBe(insecure);
    });

    it('answers over the insecure port and over TLS', async () => {
      const plain = track(new Greeter(`127.0.0.1:${insecure}`, grpc.credentials.createInsecure()));
      expect(await unary(plain, 'SayHello', { name: 'plain' })).toEqual({
        message: 'Hello, plain!',
      });
      const tls = track(
        new Greeter(
          `127.0.0.1:${secure}`,
          grpc.credentials.createSsl(Buffer.from(certificates.ca.cert)),
        ),
      );
      expect(await unary(tls, 'SayHello', { name: 'tls' })).toEqual({ message: 'Hello, tls!' });
    });

    it('refuses a TLS client that does not trust the server', async () => {
      const untrusted = track(
        new Greeter(
          `127.0.0.1:${secure}`,
          grpc.credentials.createSsl(Buffer.from(certificates.otherCa.cert)),
        ),
      );
      const error = await callError(unary(untrusted, 'SayHello', { name: 'x' }));
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
    });

    it('requires and checks client certificates when a CA is given', async () => {
      const mutual = new GRPCService();
      mutual.addService(protos.service('helloworld.Greeter'), greeter);
      mutual.addSecurePort('127.0.0.1:0', {
        cert: certificates.server.certPath,
        key: certificates.server.keyPath,
        ca: certificates.ca.certPath,
      });
      await mutual.start();
      try {
        const address = `127.0.0.1:${mutual.ports[0]!.port}`;
        const ca = Buffer.from(certificates.ca.cert);
        const withCertificate = track(
          new Greeter(
            address,
            grpc.credentials.createSsl(
              ca,
              Buffer.from(certificates.client.key),
              Buffer.from(certificates.client.cert),
            ),
          ),
        );
        expect(await unary(withCertificate, 'SayHello', { name: 'mtls' })).toEqual({
          message: 'Hello, mtls!',
        });
        const without = track(new Greeter(address, grpc.credentials.createSsl(ca)));
        expect((await callError(unary(without, 'SayHello', { name: 'x' }))).code).toBe(
          grpc.status.UNAVAILABLE,
        );
        const stranger = track(
          new Greeter(
            address,
            grpc.credentials.createSsl(
              ca,
              Buffer.from(certificates.otherClient.key),
              Buffer.from(certificates.otherClient.cert),
            ),
          ),
        );
        expect((await callError(unary(stranger, 'SayHello', { name: 'x' }))).code).toBe(
          grpc.status.UNAVAILABLE,
        );
      } finally {
        for (const client of clients.splice(0)) client.close();
        await mutual.stop();
      }
    });

    it('accepts gzip-compressed requests; replies go uncompressed (grpc-js does not compress them)', async () => {
      const proxy = await countingProxy(insecure);
      try {
        const client = track(
          numbersClient(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure(), {
            'grpc.default_compression_algorithm': 2,
          }),
        );
        const text = 'a'.repeat(200_000);
        const reply = await unary<{ text: string }>(client, 'Payload', { text });
        expect(reply.text).toBe(text);
        // 200 kB of one letter gzip to a few hundred bytes; sent in the clear it would be > 200 kB
        expect(proxy.sent()).toBeLessThan(20_000);
        expect(proxy.received()).toBeGreaterThan(200_000);
      } finally {
        await proxy.close();
      }
    });

    it('streams from the server, from the client, and both ways', async () => {
      const client = track(
        numbersClient(`127.0.0.1:${insecure}`, grpc.credentials.createInsecure()),
      );
      const counted = await collect<NumberMessage>(client.Count({ up_to: 5 }));
      expect(counted.map((m) => m.value)).toEqual([1, 2, 3, 4, 5]);

      const total = await new Promise((resolve, reject) => {
        const call = client.Sum((error: grpc.ServiceError | null, reply: unknown) =>
          error ? reject(error) : resolve(reply),
        );
        for (const value of [1, 2, 3, 4]) call.write({ value });
        call.end();
      });
      expect(total).toEqual({ sum: '10', count: 4 });

      const echo = client.Echo();
      const echoed = collect<NumberMessage>(echo);
      for (const value of [1, 2, 3]) echo.write({ value });
      echo.end();
      expect((await echoed).map((m) => m.value)).toEqual([2, 4, 6]);
    });

    it('ends a server stream with the status its generator throws, after what it yielded', async () => {
      const client = track(
        numbersClient(`127.0.0.1:${insecure}`, grpc.credentials.createInsecure()),
      );
      const error = await callError(collect(client.Count({ up_to: 2000 })));
      expect(error.code).toBe(grpc.status.OUT_OF_RANGE);
      expect(error.details).toBe('too many');
      expect((error as unknown as { messages: unknown[] }).messages).toHaveLength(999);
    });

    it('stops the generator when the client cancels', async () => {
      const client = track(
        numbersClient(`127.0.0.1:${insecure}`, grpc.credentials.createInsecure()),
      );
      const before = generatorFinished;
      const stream = client.Count({ up_to: 999 });
      await new Promise<void>((resolve) => {
        stream.on('data', () => {
          stream.cancel();
          resolve();
        });
      });
      stream.on('error', () => {});
      await expect.poll(() => generatorFinished, { timeout: 10_000 }).toBe(before + 1);
    });

    it('answers list-services on the reflection service', async () => {
      const Reflection = reflectionProtos.client('grpc.reflection.v1.ServerReflection');
      const client = track(
        new Reflection(`127.0.0.1:${insecure}`, grpc.credentials.createInsecure()),
      );
      const call = client.ServerReflectionInfo!() as grpc.ClientDuplexStream<
        unknown,
        Record<string, unknown>
      >;
      const responses = collect(call);
      call.write({ list_services: '*' });
      call.write({ file_containing_symbol: 'helloworld.Greeter' });
      call.end();
      const [list, file] = await responses;
      const names = (list!.list_services_response as { service: { name: string }[] }).service.map(
        (entry) => entry.name,
      );
      expect(names.sort()).toEqual([
        'grpc.health.v1.Health',
        'helloworld.Greeter',
        'test.numbers.Numbers',
      ]);
      const descriptors = (file!.file_descriptor_response as { file_descriptor_proto: Buffer[] })
        .file_descriptor_proto;
      expect(descriptors.length).toBeGreaterThan(0);
      expect(Buffer.concat(descriptors).toString('latin1')).toContain('SayHello');
    });

    it('answers health checks for the server and each service', async () => {
      const Health = loadHealthProtos().client('grpc.health.v1.Health');
      const client = track(new Health(`127.0.0.1:${insecure}`, grpc.credentials.createInsecure()));
      expect(await unary(client, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
      expect(await unary(client, 'Check', { service: 'helloworld.Greeter' })).toEqual({
        status: 'SERVING',
      });
      const unknown = await callError(unary(client, 'Check', { service: 'nope.Nope' }));
      expect(unknown.code).toBe(grpc.status.NOT_FOUND);
      const list = await unary<{ statuses: Record<string, { status: string }> }>(
        client,
        'List',
        {},
      );
      expect(Object.keys(list.statuses).sort()).toEqual([
        '',
        'helloworld.Greeter',
        'test.numbers.Numbers',
      ]);

      service.setServingStatus('helloworld.Greeter', 'NOT_SERVING');
      expect(await unary(client, 'Check', { service: 'helloworld.Greeter' })).toEqual({
        status: 'NOT_SERVING',
      });
      service.setServingStatus('helloworld.Greeter', 'SERVING');
      expect(service.getServingStatus('helloworld.Greeter')).toBe('SERVING');
    });

    it('counts each method in the statistics registry', async () => {
      const client = track(new Greeter(`127.0.0.1:${insecure}`, grpc.credentials.createInsecure()));
      const read = (): Record<string, number> =>
        Object.fromEntries(
          getStatistics('GRPCMethodStatistic')
            .filter((entry) => entry.name === 'serving:/helloworld.Greeter/SayHello')
            .map((entry) => [entry.metric, entry.value]),
        );
      const before = read();
      await Promise.all([1, 2, 3].map((n) => unary(client, 'SayHello', { name: String(n) })));
      const after = read();
      expect(after.calls! - before.calls!).toBe(3);
      expect(after.ok! - before.ok!).toBe(3);
      expect(after.in_flight).toBe(0);
      expect(after.errors).toBe(before.errors);
    });
  },
);

describe('GRPCService handlers and errors', () => {
  let service: GRPCService;
  let client: grpc.Client;
  let numbers: NumbersClient;
  const metadata = new grpc.Metadata();
  metadata.set('reason', 'quota');

  beforeAll(async () => {
    service = new GRPCService({ statisticName: 'errors' });
    service.addService(protos.service('helloworld.Greeter'), {
      SayHello: async (
        call: grpc.ServerUnaryCall<{ name: string }, Reply>,
      ): Promise<Reply | undefined> => {
        const { name } = call.request;
        switch (name) {
          case 'missing':
            // eslint-disable-next-line @typescript-eslint/only-throw-error
            throw { code: grpc.status.NOT_FOUND, details: 'no such person' };
          case 'missing-error':
            throw Object.assign(new Error('nobody called missing-error'), {
              code: grpc.status.NOT_FOUND,
            });
          case 'boom':
            throw new Error('boom');
          case 'string':
            // eslint-disable-next-line @typescript-eslint/only-throw-error
            throw 'just a string';
          case 'system':
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          case 'quota':
            // eslint-disable-next-line @typescript-eslint/only-throw-error
            throw { code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down', metadata };
          case 'nothing':
            return undefined;
          case 'slow':
            await new Promise((resolve) => setTimeout(resolve, 2_000));
            return { message: 'late' };
          default:
            return { message: `Hello, ${name}!` };
        }
      },
    });
    service.addService(protos.service('test.numbers.Numbers'), {
      // grpc-js's own handler shapes, unchanged
      Count: (call: grpc.ServerWritableStream<{ up_to: number }, NumberMessage>) => {
        let value = 0;
        const timer = setInterval(() => {
          value++;
          call.write({ value });
          if (value === call.request.up_to) {
            clearInterval(timer);
            call.end();
          }
        }, 1);
      },
      Sum: (
        call: grpc.ServerReadableStream<NumberMessage, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        let sum = 0;
        call.on('data', (message: NumberMessage) => (sum += message.value));
        call.on('end', () =>
          sum < 0 ? callback(new Error('negative')) : callback(null, { sum, count: 0 }),
        );
      },
      Echo: () => {
        throw new Error('sync throw in a stream handler');
      },
      Payload: (() => {
        throw new Error('sync throw');
      }) as () => never,
    });
    service.addInsecurePort('127.0.0.1:0');
    await service.start();
    const address = `127.0.0.1:${service.ports[0]!.port}`;
    client = new Greeter(address, grpc.credentials.createInsecure());
    numbers = numbersClient(address, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    numbers?.close();
    await service?.stop();
  });

  it('passes NOT_FOUND from an async implementation through to the client', async () => {
    const error = await callError(unary(client, 'SayHello', { name: 'missing' }));
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.details).toBe('no such person');
    const fromError = await callError(unary(client, 'SayHello', { name: 'missing-error' }));
    expect(fromError.code).toBe(grpc.status.NOT_FOUND);
    expect(fromError.details).toBe('nobody called missing-error');
  });

  it('sends INTERNAL with the message, never the stack, for any other error', async () => {
    for (const [name, details] of [
      ['boom', 'boom'],
      ['string', 'just a string'],
      ['system', 'socket hang up'],
      ['nothing', 'SayHello returned no reply'],
    ]) {
      const error = await callError(unary(client, 'SayHello', { name }));
      expect(error.code, name).toBe(grpc.status.INTERNAL);
      expect(error.details, name).toBe(details);
      expect(error.details).not.toMatch(/\bat\s/);
    }
  });

  it('keeps the metadata an error carries', async () => {
    const error = await callError(unary(client, 'SayHello', { name: 'quota' }));
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error.metadata.get('reason')).toEqual(['quota']);
  });

  it('runs grpc-js callback and stream handlers unchanged, with the same error mapping', async () => {
    const counted = await collect<NumberMessage>(numbers.Count({ up_to: 4 }));
    expect(counted.map((m) => m.value)).toEqual([1, 2, 3, 4]);
    const sum = (values: number[]): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const call = numbers.Sum((error, reply) => (error ? reject(error) : resolve(reply)));
        for (const value of values) call.write({ value });
        call.end();
      });
    expect(await sum([5, 6])).toEqual({ sum: '11', count: 0 });
    const negative = await callError(sum([-1]));
    expect(negative.code).toBe(grpc.status.INTERNAL);
    expect(negative.details).toBe('negative');
  });

  it('turns a synchronous throw into INTERNAL, in unary and streaming handlers', async () => {
    const unaryError = await callError(unary(numbers, 'Payload', { text: 'x' }));
    expect(unaryError.code).toBe(grpc.status.INTERNAL);
    expect(unaryError.details).toBe('sync throw');
    const echo = numbers.Echo();
    const streamError = await callError(collect(echo));
    expect(streamError.code).toBe(grpc.status.INTERNAL);
    expect(streamError.details).toBe('sync throw in a stream handler');
  });

  it('counts errors by status code and calls cancelled by a client deadline', async () => {
    const read = (): Record<string, number> =>
      Object.fromEntries(
        getStatistics('GRPCMethodStatistic')
          .filter((entry) => entry.name === 'errors:/helloworld.Greeter/SayHello')
          .map((entry) => [entry.metric, entry.value]),
      );
    const before = read();
    await callError(unary(client, 'SayHello', { name: 'missing' }));
    await callError(unary(client, 'SayHello', { name: 'boom' }));
    const late = await callError(
      unary(client, 'SayHello', { name: 'slow' }, { deadline: Date.now() + 100 }),
    );
    expect(late.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await expect
      .poll(() => read().status_CANCELLED ?? 0, { timeout: 5_000 })
      .toBe((before.status_CANCELLED ?? 0) + 1);
    const after = read();
    expect(after.status_NOT_FOUND! - (before.status_NOT_FOUND ?? 0)).toBe(1);
    expect(after.status_INTERNAL! - (before.status_INTERNAL ?? 0)).toBe(1);
    expect(after.errors! - before.errors!).toBe(3);
    expect(after.in_flight).toBe(0);
  });
});

describe('toErrorStatus', () => {
  it('keeps codes 1..16 and maps everything else to INTERNAL', () => {
    expect(toErrorStatus({ code: 5, details: 'd', message: 'm' })).toMatchObject({
      code: 5,
      details: 'd',
    });
    expect(toErrorStatus(Object.assign(new Error('m'), { code: 16 }))).toMatchObject({
      code: 16,
      details: 'm',
    });
    expect(toErrorStatus({ code: 0, message: 'ok?' })).toMatchObject({ code: 13, details: 'ok?' });
    expect(toErrorStatus({ code: 17 })).toMatchObject({ code: 13, details: 'internal error' });
    expect(toErrorStatus({ code: 2.5, message: 'x' })).toMatchObject({ code: 13 });
    expect(toErrorStatus(null)).toMatchObject({ code: 13, details: 'null' });
    expect(toErrorStatus(undefined)).toMatchObject({ code: 13, details: 'undefined' });
  });
});
