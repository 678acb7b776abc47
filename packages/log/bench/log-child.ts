// One bench case in its own process: writes `count` info records to `file` through raw pino or
// @aiomisc/log, then calls process.exit(0) with no explicit flush (as the peer baseline does).
// The last 'exit' listener prints the timings after the libraries' own exit hooks ran.
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { basicConfig, getLogger } from '../dist/index.js';

const [impl, mode, format, fileArgument, countText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const count = Number(countText);
// 'stderr': the case of a service under Docker or systemd, whose stderr is a pipe.
const file: string | number = fileArgument === 'stderr' ? 2 : fileArgument;

interface Sink {
  info(message: string): void;
}

// Raw pino makes its named logger as a child, like getLogger(name) does, so that both sides run
// the same pino code path (a root logger built with { name } is measurably slower than a child).
function rawPino(): Sink {
  if (format === 'json') {
    const destination =
      mode === 'sync'
        ? pino.destination({ dest: file, sync: true })
        : pino.transport({ target: 'pino/file', options: { destination: file } });
    return pino(destination).child({ name: 'bench' });
  }
  const options = {
    colorize: false,
    destination: file,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss',
    ignore: 'pid,hostname',
  };
  const destination =
    mode === 'sync'
      ? pinoPretty({ ...options, sync: true })
      : pino.transport({ target: 'pino-pretty', options });
  return pino(destination).child({ name: 'bench' });
}

function aiomiscLog(): Sink {
  basicConfig({
    logFormat: format === 'json' ? 'json' : 'stream',
    buffered: mode === 'buffered',
    destination: file,
  });
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
