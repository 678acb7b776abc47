// The client side of bench/network.ts, in a child process: the server under test gets the bench
// process to itself, so its CPU time (process.cpuUsage) is the server's alone.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
const { mode, port, durationMs, ca } = JSON.parse(process.argv[2]);

function echo() {
  // One connection, 64 KiB writes, up to 1 MiB in flight; MB/s of echoed bytes received.
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const window = 1024 * 1024;
    const socket = connect({ host: '127.0.0.1', port });
    let sent = 0;
    let received = 0;
    let started = 0;
    let counting = false;
    let counted = 0;
    const pump = () => {
      while (sent - received < window) {
        sent += chunk.length;
        if (!socket.write(chunk)) return;
      }
    };
    socket.on('drain', pump);
    socket.on('data', (data) => {
      received += data.length;
      if (counting) counted += data.length;
      pump();
    });
    socket.once('connect', () => {
      pump();
      // 300 ms of warm-up, then count.
      setTimeout(() => {
        counting = true;
        started = performance.now();
        setTimeout(() => {
          const elapsed = performance.now() - started;
          socket.destroy();
          resolve({ rate: (counted / 1e6) * (1000 / elapsed), total: received / 1e6 });
        }, durationMs);
      }, 300);
    });
  });
}

async function lanes(count, once) {
  let done = 0;
  let running = true;
  const started = performance.now();
  setTimeout(() => (running = false), durationMs);
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (running) {
        await once();
        done++;
      }
    }),
  );
  return { rate: (done * 1000) / (performance.now() - started), total: done };
}

function shortConnection() {
  // Connect; the server ends the connection; done once it is closed.
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.on('data', () => {});
    socket.once('close', resolve);
  });
}

function handshake() {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.on('data', () => {});
      socket.once('close', resolve);
      socket.end();
    });
  });
}

function udp() {
  // Ping-pong with 64 datagrams of 64 bytes in flight; a timer tops the window up after losses.
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const payload = Buffer.alloc(64, 1);
    const window = 64;
    let inFlight = 0;
    let replies = 0;
    let all = 0;
    let counting = false;
    let started = 0;
    const send = () => {
      inFlight++;
      socket.send(payload, port, '127.0.0.1');
    };
    socket.on('message', () => {
      inFlight--;
      all++;
      if (counting) replies++;
      send();
    });
    socket.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < window; i++) send();
      const topUp = setInterval(() => {
        if (inFlight < window / 2) inFlight = 0;
        while (inFlight < window) send();
      }, 50);
      setTimeout(() => {
        counting = true;
        started = performance.now();
        setTimeout(() => {
          clearInterval(topUp);
          const elapsed = performance.now() - started;
          socket.close();
          resolve({ rate: (replies * 1000) / elapsed, total: all });
        }, durationMs);
      }, 300);
    });
  });
}

const run = {
  echo,
  accept: () => lanes(50, shortConnection),
  tls: () => lanes(8, handshake),
  udp,
}[mode];
process.send(await run(), () => process.disconnect());
