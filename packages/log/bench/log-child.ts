// One bench case in its own process: writes `count` info records to `file` through raw pino or
// @aiomisc/log, then calls process.exit(0) with no explicit flush (as the peer baseline does).
// The last 'exit' listener prints the timings after the libraries' own exit hooks ran.
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { basicConfig, getLogger } from '../dist/index.js';

const [impl, mode, format, file, countText] = process.argv.slice(2) as [string, string, string, string, string];
const count = Number(countText);

interface Sink {
  info(message: string): void;
}

function rawPino(): Sink {
  if (format === 'json') {
    return mode === 'sync'
      ? pino({ name: 'bench' }, pino.destination({ dest: file, sync: true }))
      : pino({ name: 'bench' }, pino.transport({ target: 'pino/file', options: { destination: file } }));
  }
  const options = { colorize: false, destination: file, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss', ignore: 'pid,hostname' };
  return mode === 'sync'
    ? pino({ name: 'bench' }, pinoPretty({ ...options, sync: true }))
    : pino({ name: 'bench' }, pino.transport({ target: 'pino-pretty', options }));
}

function aiomiscLog(): Sink {
  basicConfig({ logFormat: format === 'json' ? 'json' : 'stream', buffered: mode === 'buffered', destination: file });
  return getLogger('bench');
}

const log = impl === 'pino' ? rawPino() : aiomiscLog();
const t0 = performance.now();
for (let i = 0; i < count; i++) log.info('hello world');
const t1 = performance.now();
process.on('exit', () => {
  const t2 = performance.now();
  writeSync(1, `${JSON.stringify({ callMs: t1 - t0, e2eMs: t2 - t0 })}\n`);
});
process.exit(0);
