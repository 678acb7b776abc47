import { connect, type Socket } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { TCPServer } from '../../src/index';
import { closed, connectTo, expectFdsBackTo, fdCount, recordLogs, waitFor } from './helpers';

class Echo extends TCPServer {
  handleClient(socket: Socket) {
    socket.pipe(socket);
  }
}

/** Echoes, and stays busy (a pending promise) until the peer closes. */
class BusyEcho extends TCPServer {
  async handleClient(socket: Socket) {
    socket.pipe(socket);
    await new Promise((resolve) => socket.once('close', resolve));
  }
}

let logs: ReturnType<typeof recordLogs>;
beforeEach(() => {
  logs = recordLogs();
});
afterEach(() => logs.restore());

describe('TCPServer under load', () => {
  it('stops with 1,000 open connections (idle and mid-transfer) within its deadline, no fd left', async () => {
    const baseline = fdCount();
    const servers = [
      new Echo({ port: 0, gracefulTimeout: 1000 }),
      new BusyEcho({ port: 0, gracefulTimeout: 1000 }),
    ];
    for (const server of servers) await server.start();
    const sockets: Socket[] = [];
    const writers: NodeJS.Timeout[] = [];
    for (let i = 0; i < 1000; i++) {
      const server = servers[i % 2]!;
      const socket = await connectTo(server.address().port);
      sockets.push(socket);
      if (i % 4 === 0) {
        // Mid-transfer: keeps writing and reading.
        socket.on('data', () => {});
        const chunk = Buffer.alloc(16 * 1024, i);
        writers.push(setInterval(() => socket.writable && socket.write(chunk), 5));
      }
    }
    await waitFor(() => servers.every((server) => server.statistic.open === 500));
    const started = performance.now();
    await Promise.all(servers.map((server) => server.stop()));
    const elapsed = performance.now() - started;
    for (const writer of writers) clearInterval(writer);
    // The deadline is 1 s; allow for a loaded machine, but far below a hang.
    expect(elapsed).toBeLessThan(1000 + 4000);
    for (const server of servers) expect(server.statistic.open).toBe(0);
    await Promise.all(sockets.map(closed));
    await expectFdsBackTo(baseline);
  }, 60_000);

  it('leaves no fd or listener behind after 10,000 connect/disconnect cycles', async () => {
    const server = new Echo({ port: 0 });
    await server.start();
    const port = server.address().port;
    const baseline = fdCount();
    const cycle = () =>
      new Promise<void>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('error', reject);
        socket.once('connect', () => socket.end());
        socket.on('data', () => {});
        socket.once('close', () => resolve());
      });
    const lanes = 20;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        for (let i = 0; i < 10_000 / lanes; i++) await cycle();
      }),
    );
    await waitFor(() => server.statistic.closed === 10_000);
    expect(server.statistic.accepted).toBe(10_000);
    expect(server.statistic.open).toBe(0);
    await expectFdsBackTo(baseline);
    await server.stop();
    await expectFdsBackTo(baseline - 1);
    const stats = server.statistic;
    expect(stats.errors).toBe(0);
  }, 120_000);
});
