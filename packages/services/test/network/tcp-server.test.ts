import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

import {
  InvalidArgumentError,
  InvalidStateError,
  bindSocket,
  entrypoint,
  getStatistics,
} from '@aiomisc/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { TCPServer } from '../../src/index';
import type { TCPServerOptions } from '../../src/index';
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

/** An async handler that echoes until the peer ends or the signal aborts. */
class AsyncEcho extends TCPServer {
  async handleClient(socket: Socket, signal: AbortSignal) {
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    await new Promise<void>((resolve) => {
      socket.once('close', resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}

let logs: ReturnType<typeof recordLogs>;
beforeEach(() => {
  logs = recordLogs();
});
afterEach(() => logs.restore());

describe('TCPServer', () => {
  it('is bound when start resolves and echoes', async () => {
    const server = new Echo({ address: '127.0.0.1', port: 0 });
    await server.start();
    const bound = server.address();
    expect(bound).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(bound.port).toBeGreaterThan(0);
    const socket = await connectTo(bound.port);
    expect((await roundTrip(socket, 'hello\n')).toString()).toBe('hello\n');
    socket.end();
    await closed(socket);
    await server.stop();
    expect(logs.lines.some((line) => line.message.includes(`tcp://127.0.0.1:${bound.port}`))).toBe(
      true,
    );
  });

  it('binds IPv6 addresses and logs them in brackets', async () => {
    const server = new Echo({ address: '::1', port: 0 });
    await server.start();
    const bound = server.address();
    expect(bound).toMatchObject({ address: '::1', family: 'IPv6' });
    const socket = connect({ host: '::1', port: bound.port });
    socket.on('error', () => {});
    await once(socket, 'connect');
    expect((await roundTrip(socket, 'six')).toString()).toBe('six');
    socket.destroy();
    await server.stop();
    expect(logs.lines.some((line) => line.message.includes(`tcp://[::1]:${bound.port}`))).toBe(
      true,
    );
  });

  it('runs under an entrypoint and stops with it', async () => {
    const server = new Echo({ port: 0 });
    const ep = entrypoint({ services: [server], catchSignals: [] });
    await ep.start();
    const socket = await connectTo(server.address().port);
    expect((await roundTrip(socket, 'x')).toString()).toBe('x');
    await ep.stop();
    await closed(socket);
    expect(() => server.address()).toThrow(InvalidStateError);
  });

  it('counts connections and bytes in getStatistics', async () => {
    const server = new Echo({ port: 0, statisticName: 'echo-stats' });
    await server.start();
    const socket = await connectTo(server.address().port);
    await roundTrip(socket, 'abcd');
    await waitFor(() => server.statistic.open === 1);
    socket.end();
    await waitFor(() => server.statistic.closed === 1);
    await server.stop();
    const metrics = Object.fromEntries(
      getStatistics('TCPServerStatistic')
        .filter((entry) => entry.name === 'echo-stats')
        .map((entry) => [entry.metric, entry.value]),
    );
    expect(metrics).toMatchObject({ accepted: 1, open: 0, closed: 1, bytes_in: 4, bytes_out: 4 });
  });

  it('serves a listening socket given as sock', async () => {
    const sock = await bindSocket({ address: '127.0.0.1', port: 0 });
    const port = (sock.address() as { port: number }).port;
    const server = new Echo({ sock });
    await server.start();
    expect(server.address().port).toBe(port);
    const socket = await connectTo(port);
    expect((await roundTrip(socket, 'sock')).toString()).toBe('sock');
    socket.destroy();
    await server.stop();
    sock.close();
  });

  it('logs a handler that throws with the peer address and closes only that connection', async () => {
    class Throws extends TCPServer {
      count = 0;
      handleClient(socket: Socket) {
        if (this.count++ === 0) throw new Error('boom');
        socket.pipe(socket);
      }
    }
    class Rejects extends TCPServer {
      count = 0;
      async handleClient(socket: Socket) {
        if (this.count++ === 0) throw new Error('async boom');
        socket.pipe(socket);
      }
    }
    for (const Server of [Throws, Rejects]) {
      const server = new Server({ port: 0 });
      await server.start();
      const port = server.address().port;
      const first = await connectTo(port);
      const firstPort = first.localPort;
      await closed(first);
      const second = await connectTo(port);
      expect((await roundTrip(second, 'still up')).toString()).toBe('still up');
      second.destroy();
      await server.stop();
      expect(server.statistic.errors).toBe(1);
      const line = logs.lines.find((entry) => entry.level === 'error');
      expect(line?.message).toContain(`127.0.0.1:${firstPort}`);
      expect((line?.error as Error).message).toMatch(/boom/);
      logs.lines.length = 0;
    }
  });

  it('takes options from static defaults of a subclass', async () => {
    class Defaulted extends Echo {
      static override defaults = { port: 0, gracefulTimeout: 123, statisticName: 'defaulted' };
      greeting = 'fields do not clobber options';
    }
    const server = new Defaulted();
    expect(server.options.gracefulTimeout).toBe(123);
    await server.start();
    expect(server.address().port).toBeGreaterThan(0);
    expect(server.statistic.name).toBe('defaulted');
    await server.stop();
  });

  it('allows stop before start, a second stop, and a restart', async () => {
    const server = new Echo({ port: 0 });
    await server.stop();
    await server.start();
    await expect(server.start()).rejects.toSatisfy((error) => InvalidStateError.isInstance(error));
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    await server.start();
    const socket = await connectTo(server.address().port);
    expect((await roundTrip(socket, 'again')).toString()).toBe('again');
    socket.destroy();
    await server.stop();
  });

  it('handles a stop called while start is binding', async () => {
    const baseline = fdCount();
    const server = new Echo({ port: 0 });
    const starting = server.start();
    const stopping = server.stop();
    await starting;
    await stopping;
    expect(() => server.address()).toThrow(InvalidStateError);
    await expectFdsBackTo(baseline);
  });

  it('rejects bad options at construction, naming the option and value', () => {
    const cases: [TCPServerOptions, string, unknown][] = [
      [{ port: 70000 }, 'port', 70000],
      [{ port: -1 }, 'port', -1],
      [{ port: 1.5 }, 'port', 1.5],
      [{}, 'port', undefined],
      [{ port: 0, gracefulTimeout: -5 }, 'gracefulTimeout', -5],
      [{ port: 0, address: '' }, 'address', ''],
      [{ sock: 42 as never }, 'sock', 42],
      [{ port: 0, backlog: -1 }, 'backlog', -1],
    ];
    for (const [options, argument, value] of cases) {
      let caught: unknown;
      try {
        new Echo(options);
      } catch (error) {
        caught = error;
      }
      expect(InvalidArgumentError.isInstance(caught), `${argument}: ${String(caught)}`).toBe(true);
      expect((caught as InvalidArgumentError).argument).toBe(argument);
      expect((caught as InvalidArgumentError).value).toBe(value);
      expect((caught as Error).message).toContain(argument);
    }
  });

  it('rejects start on a port in use and leaves nothing bound', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const baseline = fdCount();
    const server = new Echo({ port });
    await expect(server.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(() => server.address()).toThrow(InvalidStateError);
    await server.stop();
    await expectFdsBackTo(baseline);
    taken.close();
  });

  it('survives garbage, resets and clients that never read', async () => {
    const baseline = fdCount();
    const server = new Echo({ port: 0, gracefulTimeout: 200 });
    await server.start();
    const port = server.address().port;
    const resets: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = await connectTo(port);
      socket.write(Buffer.alloc(1024, i));
      resets.push(socket);
    }
    for (const socket of resets) socket.resetAndDestroy();
    // A client that never reads: the echo fills both socket buffers.
    const deaf = await connectTo(port);
    deaf.pause();
    const big = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 16; i++) deaf.write(big);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const healthy = await connectTo(port);
    expect((await roundTrip(healthy, 'fine')).toString()).toBe('fine');
    const started = performance.now();
    await server.stop();
    expect(performance.now() - started).toBeLessThan(5000);
    deaf.destroy();
    healthy.destroy();
    await expectFdsBackTo(baseline);
  });

  describe('graceful stop', () => {
    it('stops accepting at once and ends idle connections without waiting', async () => {
      const server = new Echo({ port: 0, gracefulTimeout: 60_000 });
      await server.start();
      const port = server.address().port;
      const idle = await connectTo(port);
      const ended = once(idle, 'end');
      const started = performance.now();
      const stopping = server.stop();
      await expect(connectTo(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await stopping;
      await ended;
      expect(performance.now() - started).toBeLessThan(5000);
      idle.destroy();
    });

    it('waits for a running handler, which sees the signal', async () => {
      let sawAbort = false;
      class Slow extends TCPServer {
        async handleClient(socket: Socket, signal: AbortSignal) {
          await once(signal, 'abort');
          sawAbort = true;
          await new Promise((resolve) => setTimeout(resolve, 50));
          socket.end('bye');
        }
      }
      const server = new Slow({ port: 0, gracefulTimeout: 10_000 });
      await server.start();
      const socket = await connectTo(server.address().port);
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      await waitFor(() => server.statistic.open === 1);
      await server.stop();
      await closed(socket);
      expect(sawAbort).toBe(true);
      expect(Buffer.concat(received).toString()).toBe('bye');
      expect(server.statistic.destroyed).toBe(0);
    });

    it('destroys handlers that ignore the signal at gracefulTimeout', async () => {
      class Stubborn extends TCPServer {
        async handleClient() {
          await new Promise(() => {});
        }
      }
      const baseline = fdCount();
      const server = new Stubborn({ port: 0, gracefulTimeout: 300 });
      await server.start();
      const sockets = await Promise.all([1, 2, 3].map(() => connectTo(server.address().port)));
      await waitFor(() => server.statistic.open === 3);
      const started = performance.now();
      await server.stop();
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(5000);
      expect(server.statistic.destroyed).toBe(3);
      await Promise.all(sockets.map(closed));
      await expectFdsBackTo(baseline);
    });

    it('lets many handlers listen to the signal without a MaxListeners warning', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      const server = new AsyncEcho({ port: 0 });
      await server.start();
      const sockets = await Promise.all(
        Array.from({ length: 20 }, () => connectTo(server.address().port)),
      );
      await waitFor(() => server.statistic.open === 20);
      await server.stop();
      await Promise.all(sockets.map(closed));
      await new Promise((resolve) => setImmediate(resolve));
      process.off('warning', onWarning);
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual(
        [],
      );
    });

    it('destroys at once with gracefulTimeout 0', async () => {
      class Stubborn extends TCPServer {
        async handleClient() {
          await new Promise(() => {});
        }
      }
      const server = new Stubborn({ port: 0, gracefulTimeout: 0 });
      await server.start();
      const socket = await connectTo(server.address().port);
      await waitFor(() => server.statistic.open === 1);
      await server.stop();
      await closed(socket);
      expect(server.statistic.destroyed).toBe(1);
    });

    it('accepts a gracefulTimeout beyond 2^31 ms and still stops when handlers finish', async () => {
      const server = new AsyncEcho({ port: 0, gracefulTimeout: 2 ** 31 + 10 });
      await server.start();
      const socket = await connectTo(server.address().port);
      expect((await roundTrip(socket, 'long')).toString()).toBe('long');
      const started = performance.now();
      await server.stop();
      expect(performance.now() - started).toBeLessThan(5000);
      await closed(socket);
    });

    it('keeps the stop within the entrypoint shutdownTimeout', async () => {
      class Stubborn extends TCPServer {
        async handleClient() {
          await new Promise(() => {});
        }
      }
      const server = new Stubborn({ port: 0, gracefulTimeout: 60_000 });
      const ep = entrypoint({ services: [server], catchSignals: [], shutdownTimeout: 500 });
      await ep.start();
      const socket = await connectTo(server.address().port);
      await waitFor(() => server.statistic.open === 1);
      await ep.stop();
      expect(server.statistic.destroyed).toBe(1);
      await closed(socket);
    });
  });
});
