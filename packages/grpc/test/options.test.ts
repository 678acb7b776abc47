import * as grpc from '@grpc/grpc-js';
import { freePort } from '@aiomisc/test-kit';
import { entrypoint, getStatistics, InvalidArgumentError, InvalidStateError } from '@aiomisc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BindError, GRPCService, UnknownServiceError, type GRPCServiceOptions } from '../src/index';
import { occupyPort, portIsFree, protos, unary, Greeter } from './helpers';

const greeter = protos.service('helloworld.Greeter');
const hello = { SayHello: async () => ({ message: 'hi' }) };
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function invalidArgument(run: () => unknown, argument: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(InvalidArgumentError.isInstance(caught), String(caught)).toBe(true);
  expect((caught as InvalidArgumentError).argument).toBe(argument);
}

describe('GRPCService options', () => {
  it.each([
    ['compression', { compression: 'brotli' }],
    ['reflection', { reflection: 'yes' }],
    ['health', { health: 1 }],
    ['stopTimeout', { stopTimeout: -1 }],
    ['stopTimeout', { stopTimeout: Number.NaN }],
    ['stopTimeout', { stopTimeout: '5s' }],
    ['statisticName', { statisticName: 5 }],
    ['options', { options: 'grpc.max_receive_message_length=1' }],
  ])('rejects a bad %s with an error naming it', (argument, options) => {
    invalidArgument(() => new GRPCService(options as unknown as GRPCServiceOptions), argument);
  });

  it('takes defaults from a subclass', () => {
    class Reflecting extends GRPCService {
      static override defaults: GRPCServiceOptions = { reflection: true, stopTimeout: 5 };
    }
    const service = new Reflecting({ health: true });
    expect(service.options).toMatchObject({ reflection: true, health: true, stopTimeout: 5 });
  });

  it('rejects bad addresses, credentials, definitions and implementations', () => {
    const service = new GRPCService();
    invalidArgument(() => service.addInsecurePort(''), 'address');
    invalidArgument(() => service.addInsecurePort(8080 as unknown as string), 'address');
    invalidArgument(() => service.addSecurePort('127.0.0.1:0', {} as never), 'credentials');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    invalidArgument(
      () => service.addSecurePort('127.0.0.1:0', { cert: pem, key: pem, ca: 5 } as never),
      'credentials.ca',
    );
    invalidArgument(
      () => service.addSecurePort('127.0.0.1:0', { cert: '/nonexistent/server.crt', key: pem }),
      'credentials.cert',
    );
    invalidArgument(
      () => service.addSecurePort('127.0.0.1:0', { cert: pem, key: Buffer.from('not pem') }),
      'credentials.key',
    );
    invalidArgument(
      () => service.addSecurePort('127.0.0.1:0', { cert: pem, key: pem, verify: true }),
      'credentials.verify',
    );
    invalidArgument(() => service.addService({}, hello), 'definition');
    invalidArgument(() => service.addService('helloworld.Greeter' as never, hello), 'definition');
    invalidArgument(() => service.addService(greeter, null as never), 'implementation');
    invalidArgument(
      () => service.addService(greeter, { SayHello: 'hi' } as never),
      'implementation.SayHello',
    );
    expect(() => service.addService(greeter, { SayGoodbye: async () => ({}) })).toThrow(
      /helloworld\.Greeter has no method "SayGoodbye"; it defines SayHello/,
    );
    try {
      service.addService(greeter, { SayGoodbye: async () => ({}) });
    } catch (error) {
      expect(UnknownServiceError.isInstance(error)).toBe(true);
    }
    service.addService(greeter, { sayHello: async () => ({ message: 'camel' }) });
    invalidArgument(() => service.addService(greeter, hello), 'definition');
    invalidArgument(() => service.setServingStatus('', 'SERVICE_UNKNOWN'), 'status');
  });

  it('asks for the package definition of a service that reflection cannot find', () => {
    const service = new GRPCService({ reflection: true });
    const copy = { ...greeter };
    invalidArgument(() => service.addService(copy, hello), 'packageDefinition');
    service.addService(copy, hello, { packageDefinition: protos.packageDefinition });
  });

  it('refuses to start without a port, twice, or to change a running server', async () => {
    const service = new GRPCService();
    service.addService(greeter, hello);
    await expect(service.start()).rejects.toSatisfy((error) => InvalidStateError.isInstance(error));
    service.addInsecurePort('127.0.0.1:0');
    await service.start();
    cleanups.push(() => service.stop());
    await expect(service.start()).rejects.toSatisfy((error) => InvalidStateError.isInstance(error));
    expect(() => service.addInsecurePort('127.0.0.1:0')).toThrow(InvalidStateError);
    expect(() => service.addService(protos.service('test.numbers.Numbers'), {})).toThrow(
      /must be called before start/,
    );
  });

  it('answers UNIMPLEMENTED for a method without a handler', async () => {
    const service = new GRPCService();
    service.addService(greeter, {});
    service.addInsecurePort('127.0.0.1:0');
    await service.start();
    cleanups.push(() => service.stop());
    const client = new Greeter(
      `127.0.0.1:${service.ports[0]!.port}`,
      grpc.credentials.createInsecure(),
    );
    cleanups.push(() => client.close());
    await expect(unary(client, 'SayHello', { name: 'x' })).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
    });
  });
});

describe('GRPCService binding', () => {
  it('rejects an address in use with a BindError naming it, and binds nothing', async () => {
    const taken = await occupyPort();
    cleanups.push(() => taken.close());
    const service = new GRPCService({ health: true });
    service.addService(greeter, hello);
    service.addInsecurePort(`127.0.0.1:${taken.port}`);
    let caught: unknown;
    await service.start().catch((error: unknown) => (caught = error));
    expect(BindError.isInstance(caught), String(caught)).toBe(true);
    expect((caught as BindError).address).toBe(`127.0.0.1:${taken.port}`);
    expect((caught as BindError).message).toMatch(/EADDRINUSE/);
    expect(service.server).toBeUndefined();
    expect(service.ports).toEqual([]);
    await service.stop();
  });

  it('makes an entrypoint start reject with the BindError', async () => {
    const taken = await occupyPort();
    cleanups.push(() => taken.close());
    const service = new GRPCService();
    service.addService(greeter, hello);
    service.addInsecurePort(`127.0.0.1:${taken.port}`);
    const ep = entrypoint({ services: [service], catchSignals: [] });
    await expect(ep.start()).rejects.toSatisfy((error) => BindError.isInstance(error));
    expect(service.server).toBeUndefined();
  });

  it('closes the first port again when the second one is in use', async () => {
    const first = await freePort();
    const taken = await occupyPort();
    cleanups.push(() => taken.close());
    const service = new GRPCService();
    service.addService(greeter, hello);
    service.addInsecurePort(`127.0.0.1:${first}`);
    service.addInsecurePort(`127.0.0.1:${taken.port}`);
    await expect(service.start()).rejects.toSatisfy((error) => BindError.isInstance(error));
    expect(await portIsFree(first)).toBe(true);
    expect(service.server).toBeUndefined();
  });

  it('rejects an address that cannot be resolved', async () => {
    const service = new GRPCService();
    service.addService(greeter, hello);
    service.addInsecurePort('not a host:::x');
    await expect(service.start()).rejects.toSatisfy((error) => BindError.isInstance(error));
  });

  it('binds one service on several addresses, IPv4 and localhost', async () => {
    const service = new GRPCService();
    service.addService(greeter, hello);
    service.addInsecurePort('127.0.0.1:0').addInsecurePort('localhost:0');
    await service.start();
    cleanups.push(() => service.stop());
    const [a, b] = service.ports;
    expect(a!.port).toBeGreaterThan(0);
    expect(b!.port).toBeGreaterThan(0);
    for (const port of [a!.port, b!.port]) {
      const client = new Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      cleanups.push(() => client.close());
      expect(await unary(client, 'SayHello', {})).toEqual({ message: 'hi' });
    }
  });
});

describe('GRPCService with misbehaving peers', () => {
  it('keeps serving after garbage, a bad HTTP/2 preface and a reset in the middle of a call', async () => {
    const { connect } = await import('node:net');
    let entered = 0;
    const service = new GRPCService({ statisticName: 'peers' });
    service.addService(greeter, {
      SayHello: async (call: grpc.ServerUnaryCall<{ name: string }, unknown>) => {
        entered++;
        if (call.request.name === 'hang') await new Promise((resolve) => setTimeout(resolve, 500));
        return { message: 'hi' };
      },
    });
    service.addInsecurePort('127.0.0.1:0');
    await service.start();
    cleanups.push(() => service.stop());
    const port = service.ports[0]!.port;

    for (const payload of [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1'),
      Buffer.alloc(4096, 0xa5),
    ]) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(payload));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.resume();
      });
    }

    const client = new Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const pending = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = (client.SayHello as (...args: unknown[]) => grpc.ClientUnaryCall)(
        { name: 'hang' },
        (error: grpc.ServiceError | null) => resolve(error),
      );
      setTimeout(() => call.cancel(), 100);
    });
    expect((await pending)?.code).toBe(grpc.status.CANCELLED);
    await expect
      .poll(
        () =>
          getStatistics('GRPCMethodStatistic').find(
            (s) =>
              s.name === 'peers:/helloworld.Greeter/SayHello' && s.metric === 'status_CANCELLED',
          )?.value,
        { timeout: 5_000 },
      )
      .toBe(1);

    const fresh = new Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanups.push(() => fresh.close());
    expect(await unary(fresh, 'SayHello', { name: 'ok' })).toEqual({ message: 'hi' });
    expect(entered).toBe(2);
  });
});
