import { createConnection } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { bindSocket, InvalidArgumentError } from '../src/index';

describe('bindSocket', () => {
  it('binds an IPv4 TCP server that accepts connections', async () => {
    const server = await bindSocket({ address: '127.0.0.1', port: 0 });
    server.on('connection', (socket) => socket.end('hi'));
    const { port, family } = server.address() as AddressInfo;
    expect(family).toBe('IPv4');
    const reply = await new Promise<string>((resolve, reject) => {
      const client = createConnection({ host: '127.0.0.1', port });
      let data = '';
      client.on('data', (chunk) => (data += chunk.toString()));
      client.on('end', () => resolve(data));
      client.on('error', reject);
    });
    expect(reply).toBe('hi');
    await new Promise((resolve) => server.close(resolve));
  });

  it('picks IPv6 from the address', async () => {
    const server = await bindSocket({ address: '::1' });
    expect((server.address() as AddressInfo).family).toBe('IPv6');
    await new Promise((resolve) => server.close(resolve));
  });

  it('binds UDP sockets of the right family', async () => {
    const socket = await bindSocket({ address: '127.0.0.1', type: 'udp' });
    const { port, family } = socket.address();
    expect(family).toBe('IPv4');
    const received = new Promise<string>((resolve) =>
      socket.once('message', (data) => resolve(data.toString())),
    );
    const sender = createSocket('udp4');
    sender.send('ping', port, '127.0.0.1');
    expect(await received).toBe('ping');
    sender.close();
    socket.close();
    const six = await bindSocket({ address: '::1', type: 'udp' });
    expect(six.address().family).toBe('IPv6');
    six.close();
  });

  it('rejects a bad address or port, naming it', async () => {
    await expect(bindSocket({ address: 'localhost' })).rejects.toSatisfy(
      (error) => InvalidArgumentError.isInstance(error) && error.argument === 'address',
    );
    await expect(bindSocket({ port: 70000 })).rejects.toThrow(/port must be .* got 70000/);
  });
});
