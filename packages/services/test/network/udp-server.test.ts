import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';

import { InvalidArgumentError, InvalidStateError, bindSocket, getStatistics } from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { UDPServer } from '../../src/index';
import { expectFdsBackTo, fdCount, recordLogs, waitFor } from './helpers';

class Echo extends UDPServer {
  handleDatagram(data: Buffer, rinfo: RemoteInfo) {
    return this.send(data, rinfo);
  }
}

async function client(): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

async function ask(socket: UdpSocket, port: number, message: string): Promise<string> {
  const reply = once(socket, 'message');
  socket.send(message, port, '127.0.0.1');
  const [data] = (await reply) as [Buffer];
  return data.toString();
}

let logs: ReturnType<typeof recordLogs>;
beforeEach(() => {
  logs = recordLogs();
});
afterEach(() => logs.restore());

describe('UDPServer', () => {
  it('is bound when start resolves, echoes and counts', async () => {
    const server = new Echo({ port: 0, statisticName: 'udp-echo' });
    await server.start();
    expect(server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    const socket = await client();
    expect(await ask(socket, server.address().port, 'ping')).toBe('ping');
    socket.close();
    await server.stop();
    const metrics = Object.fromEntries(
      getStatistics('UDPServerStatistic')
        .filter((entry) => entry.name === 'udp-echo')
        .map((entry) => [entry.metric, entry.value]),
    );
    expect(metrics).toMatchObject({ received: 1, sent: 1, bytes_in: 4, bytes_out: 4, errors: 0 });
  });

  it('replies with sendto without waiting, and refuses it when not bound', async () => {
    class Quick extends UDPServer {
      handleDatagram(data: Buffer, rinfo: RemoteInfo) {
        this.sendto(`${data.toString()}!`, rinfo);
      }
    }
    const server = new Quick({ port: 0 });
    expect(() => server.sendto('x', { address: '127.0.0.1', port: 9 })).toThrow(InvalidStateError);
    await server.start();
    const socket = await client();
    expect(await ask(socket, server.address().port, 'hey')).toBe('hey!');
    expect(server.statistic).toMatchObject({ sent: 1, bytes_out: 4 });
    socket.close();
    await server.stop();
  });

  it('logs a failing handler with the sender address and keeps serving', async () => {
    class Fussy extends UDPServer {
      async handleDatagram(data: Buffer, rinfo: RemoteInfo) {
        if (data.toString() === 'bad') throw new Error('bad datagram');
        await this.send(data, rinfo);
      }
    }
    const server = new Fussy({ port: 0 });
    await server.start();
    const socket = await client();
    socket.send('bad', server.address().port, '127.0.0.1');
    await waitFor(() => server.statistic.errors === 1);
    expect(await ask(socket, server.address().port, 'good')).toBe('good');
    const line = logs.lines.find((entry) => entry.level === 'error');
    expect(line?.message).toContain(`127.0.0.1:${socket.address().port}`);
    socket.close();
    await server.stop();
  });

  it('stop waits for a running handler that still replies, and drops what comes after', async () => {
    class Slow extends UDPServer {
      async handleDatagram(data: Buffer, rinfo: RemoteInfo, signal: AbortSignal) {
        await once(signal, 'abort');
        await this.send(Buffer.concat([data, Buffer.from(' late')]), rinfo);
      }
    }
    const server = new Slow({ port: 0, gracefulTimeout: 5000 });
    await server.start();
    const port = server.address().port;
    const socket = await client();
    const reply = once(socket, 'message');
    socket.send('slow', port, '127.0.0.1');
    await waitFor(() => server.statistic.received === 1);
    await server.stop();
    const [data] = (await reply) as [Buffer];
    expect(data.toString()).toBe('slow late');
    await expect(server.send('x', { address: '127.0.0.1', port })).rejects.toSatisfy((error) =>
      InvalidStateError.isInstance(error),
    );
    socket.close();
  });

  it('gives up on handlers that never settle at gracefulTimeout', async () => {
    class Stuck extends UDPServer {
      async handleDatagram() {
        await new Promise(() => {});
      }
    }
    const baseline = fdCount();
    const server = new Stuck({ port: 0, gracefulTimeout: 200 });
    await server.start();
    const socket = await client();
    socket.send('x', server.address().port, '127.0.0.1');
    await waitFor(() => server.statistic.received === 1);
    const started = performance.now();
    await server.stop();
    expect(performance.now() - started).toBeLessThan(5000);
    socket.close();
    await expectFdsBackTo(baseline);
  });

  it('serves a bound socket given as sock, and handles stop before start and twice', async () => {
    const sock = await bindSocket({ type: 'udp', address: '127.0.0.1', port: 0 });
    const server = new Echo({ sock });
    await server.stop();
    await server.start();
    expect(server.address().port).toBe(sock.address().port);
    const socket = await client();
    expect(await ask(socket, server.address().port, 'sock')).toBe('sock');
    socket.close();
    await Promise.all([server.stop(), server.stop()]);
  });

  it('rejects bad options and leaves nothing bound', async () => {
    for (const [options, argument] of [
      [{ port: 70000 }, 'port'],
      [{}, 'port'],
      [{ port: 0, gracefulTimeout: Number.NaN }, 'gracefulTimeout'],
      [{ sock: {} as never }, 'sock'],
    ] as const) {
      expect(() => new Echo(options)).toThrow(
        expect.objectContaining({ argument, name: 'InvalidArgumentError' }),
      );
    }
    const baseline = fdCount();
    const first = new Echo({ port: 0 });
    await first.start();
    const second = new Echo({ port: first.address().port });
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await first.stop();
    await expectFdsBackTo(baseline);
    expect(InvalidArgumentError.isInstance(new InvalidArgumentError('a', 1, 'b'))).toBe(true);
  });

  it('survives garbage of every size and leaves no fd behind', async () => {
    const baseline = fdCount();
    const server = new Echo({ port: 0 });
    await server.start();
    const socket = await client();
    // The echoes of the garbage come back too: let all four arrive before asking, or one of
    // them would be taken for the answer.
    let echoes = 0;
    const countEcho = () => void echoes++;
    socket.on('message', countEcho);
    for (const size of [0, 1, 1500, 65_000])
      socket.send(Buffer.alloc(size, 1), server.address().port, '127.0.0.1');
    await waitFor(() => server.statistic.received === 4 && echoes === 4);
    socket.off('message', countEcho);
    expect(await ask(socket, server.address().port, 'after')).toBe('after');
    socket.close();
    await server.stop();
    await expectFdsBackTo(baseline);
  });
});
