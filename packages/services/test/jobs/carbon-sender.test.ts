import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { InvalidArgumentError, Statistic } from '@aiomisc/core';
import { freePort } from '@aiomisc/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { CarbonSender, stripCarbonNamespace } from '../../src/index';

class JobsTestStatistic extends Statistic {
  readonly kind = 'JobsTestStatistic';
  sent = 0;
}
const statistic = new JobsTestStatistic('carbon test/1');

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function carbonListener(): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  server = createServer((socket) => {
    let buffer = '';
    socket.on('data', (chunk) => (buffer += chunk.toString()));
    socket.on('end', () => received.push(buffer));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, received };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('CarbonSender', () => {
  it('sends getStatistics() in the plaintext protocol every interval, and at stop', async () => {
    const { port, received } = await carbonListener();
    statistic.sent = 7;
    const sender = new CarbonSender({
      port,
      interval: 100,
      namespace: 'My App.web-1',
      kinds: ['JobsTestStatistic'],
    });
    await sender.start();
    await until(() => received.length >= 2);
    statistic.sent = 8;
    const before = received.length;
    await sender.stop();
    expect(received.length).toBe(before + 1);
    const line = received[0]!.trim();
    expect(line).toMatch(/^my_app\.web-1\.jobsteststatistic\.carbon_test_1\.sent 7 \d{10}$/);
    const timestamp = Number(line.split(' ')[2]);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(10);
    expect(received.at(-1)).toMatch(/\.sent 8 \d+\n$/);
    await sender.stop();
  });

  it('sends over UDP, one datagram per line', async () => {
    const socket = createSocket('udp4');
    const received: string[] = [];
    socket.on('message', (message) => received.push(message.toString()));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      const sender = new CarbonSender({
        port: socket.address().port,
        protocol: 'udp',
        kinds: ['JobsTestStatistic'],
      });
      await sender.send();
      await until(() => received.length >= 1);
      expect(received[0]).toMatch(/^jobsteststatistic\.carbon_test_1\.sent \d+ \d+\n$/);
    } finally {
      socket.close();
    }
  });

  it('logs, does not throw, when carbon is down', async () => {
    const sender = new CarbonSender({ port: await freePort(), kinds: ['JobsTestStatistic'] });
    await expect(sender.send()).resolves.toBeUndefined();
  });

  it('strips namespaces like the seed', () => {
    expect(stripCarbonNamespace('__Foo Bar!!baz-1__')).toBe('foo_bar_baz-1');
  });

  it('rejects bad options, naming them', () => {
    for (const [options, argument] of [
      [{ interval: 0 }, 'interval'],
      [{ port: 70000 }, 'port'],
      [{ protocol: 'pickle' }, 'protocol'],
      [{ timeout: -1 }, 'timeout'],
    ] as const) {
      try {
        new CarbonSender(options as never);
        expect.unreachable();
      } catch (error) {
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        expect((error as InvalidArgumentError).argument).toBe(argument);
      }
    }
  });
});
