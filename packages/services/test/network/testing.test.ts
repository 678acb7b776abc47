import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';

import { InvalidArgumentError, InvalidStateError } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { TCPServer } from '../../src/index';
import { TCPProxy, unusedPort } from '../../src/testing';
import {
  closed,
  connectTo,
  expectFdsBackTo,
  fdCount,
  recordLogs,
  roundTrip,
  waitFor,
} from './helpers';

class Echo extends TCPServer {
  handleClient(socket: Socket) {
    socket.pipe(socket);
  }
}

let logs: ReturnType<typeof recordLogs>;
let server: Echo;
beforeEach(async () => {
  logs = recordLogs();
  server = new Echo({ port: 0 });
  await server.start();
});
afterEach(async () => {
  await server.stop();
  logs.restore();
});

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

describe('unusedPort', () => {
  it('returns a TCP port that can be bound right after', async () => {
    const port = await unusedPort();
    const probe = createServer();
    probe.listen(port, '127.0.0.1');
    await once(probe, 'listening');
    await new Promise((resolve) => probe.close(resolve));
  });

  it('returns a UDP port, and refuses a host name', async () => {
    const port = await unusedPort({ type: 'udp' });
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    socket.close();
    await expect(unusedPort({ address: 'localhost' })).rejects.toSatisfy((error) =>
      InvalidArgumentError.isInstance(error),
    );
    await expect(unusedPort({ type: 'sctp' as never })).rejects.toThrow(/type must be/);
  });
});

describe('TCPProxy', () => {
  it('forwards both ways and closes cleanly (await using)', async () => {
    const baseline = fdCount();
    {
      await using proxy = new TCPProxy({ targetPort: server.address().port });
      await proxy.start();
      const socket = await connectTo(proxy.port);
      expect((await roundTrip(socket, 'through')).toString()).toBe('through');
      socket.end();
      await closed(socket);
      await waitFor(() => proxy.connections === 0);
    }
    await expectFdsBackTo(baseline);
  });

  it('delays each direction', async () => {
    await using proxy = new TCPProxy({ targetPort: server.address().port });
    await proxy.start();
    const socket = await connectTo(proxy.port);
    const [, fast] = await timed(() => roundTrip(socket, 'a'));
    proxy.setDelay(150, 0);
    const [, slowRead] = await timed(() => roundTrip(socket, 'b'));
    proxy.setDelay(0, 150);
    const [, slowWrite] = await timed(() => roundTrip(socket, 'c'));
    {
      using _slow = proxy.slowdown(100, 100);
      const [reply, both] = await timed(() => roundTrip(socket, 'd'));
      expect(reply.toString()).toBe('d');
      expect(both).toBeGreaterThanOrEqual(190);
    }
    expect(proxy.delays).toEqual({ read: 0, write: 150 });
    expect(slowRead).toBeGreaterThanOrEqual(140);
    expect(slowWrite).toBeGreaterThanOrEqual(140);
    expect(fast).toBeLessThan(slowRead);
    socket.destroy();
  });

  it('holds traffic while paused and releases it in order', async () => {
    await using proxy = new TCPProxy({ targetPort: server.address().port });
    await proxy.start();
    const socket = await connectTo(proxy.port);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    proxy.pause();
    expect(proxy.paused).toBe(true);
    for (const part of ['1', '2', '3']) socket.write(part);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(0);
    proxy.resume();
    await waitFor(() => Buffer.concat(received).length === 3);
    expect(Buffer.concat(received).toString()).toBe('123');
    socket.destroy();
  });

  it('rewrites and drops chunks with content processors', async () => {
    await using proxy = new TCPProxy({ targetPort: server.address().port });
    await proxy.start();
    const socket = await connectTo(proxy.port);
    proxy.setContentProcessors(
      (chunk) => Buffer.from(chunk.toString().toUpperCase()),
      (chunk) => (chunk.toString() === 'drop' ? Buffer.alloc(0) : chunk),
    );
    expect((await roundTrip(socket, 'shout')).toString()).toBe('SHOUT');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write('drop');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(0);
    proxy.setContentProcessors();
    socket.removeAllListeners('data');
    expect((await roundTrip(socket, 'plain')).toString()).toBe('plain');
    expect(() => proxy.setContentProcessors('x' as never)).toThrow(/read must be/);
    socket.destroy();
  });

  it('cuts every connection at once', async () => {
    await using proxy = new TCPProxy({ targetPort: server.address().port });
    await proxy.start();
    const sockets = await Promise.all([1, 2, 3].map(() => connectTo(proxy.port)));
    await waitFor(() => proxy.connections === 3 && server.statistic.open === 3);
    const gone = sockets.map(closed);
    await proxy.disconnectAll();
    await Promise.all(gone);
    expect(proxy.connections).toBe(0);
    await waitFor(() => server.statistic.open === 0);
    // New connections still work.
    const socket = await connectTo(proxy.port);
    expect((await roundTrip(socket, 'new')).toString()).toBe('new');
    socket.destroy();
  });

  it('closes the client side when the server is gone, and has a plain lifecycle', async () => {
    const port = await unusedPort();
    const proxy = new TCPProxy({ targetPort: port });
    expect(() => proxy.address()).toThrow(InvalidStateError);
    await proxy.start();
    await expect(proxy.start()).rejects.toSatisfy((error) => InvalidStateError.isInstance(error));
    const socket = await connectTo(proxy.port);
    await closed(socket);
    await proxy.close();
    await proxy.close();
    expect(() => new TCPProxy({ targetPort: 70000 })).toThrow(/port must be/);
    expect(() => proxy.setDelay(-1)).toThrow(/read must be/);
  });
});
