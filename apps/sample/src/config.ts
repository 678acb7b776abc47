// Command-line flags and AIOMISC_* variables: a flag wins over its variable, the variable over
// the default. Durations given by people are in seconds, as the AIOMISC_* variables of the
// Python library are; the code turns them into milliseconds.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { InvalidArgumentError } from '@aiomisc/core';

/** Everything the sample can be told. Durations in ms. */
export interface SampleConfig {
  host: string;
  httpPort: number;
  grpcPort: number;
  tcpPort: number;
  greeting: string;
  dataFile: string;
  tickInterval: number;
  cron: string;
  workers: number;
  drainDelay: number;
  shutdownTimeout: number;
  upstreamFailureRate: number;
  upstreamOutageEvery: number;
  upstreamOutageFor: number;
  hangOnStop: boolean;
}

interface OptionSpec {
  flag: string;
  env: string;
  kind: 'string' | 'port' | 'seconds' | 'ratio' | 'integer' | 'boolean';
  default: string;
  help: string;
  hidden?: boolean;
}

const specs = {
  host: {
    flag: 'host',
    env: 'AIOMISC_SAMPLE_HOST',
    kind: 'string',
    default: '127.0.0.1',
    help: 'address every server binds',
  },
  httpPort: {
    flag: 'http-port',
    env: 'AIOMISC_SAMPLE_HTTP_PORT',
    kind: 'port',
    default: '8080',
    help: 'HTTP API and status page (0: any free port)',
  },
  grpcPort: {
    flag: 'grpc-port',
    env: 'AIOMISC_SAMPLE_GRPC_PORT',
    kind: 'port',
    default: '50051',
    help: 'gRPC Greeter, health and reflection (0: any free port)',
  },
  tcpPort: {
    flag: 'tcp-port',
    env: 'AIOMISC_SAMPLE_TCP_PORT',
    kind: 'port',
    default: '7007',
    help: 'TCP echo server (0: any free port)',
  },
  greeting: {
    flag: 'greeting',
    env: 'AIOMISC_SAMPLE_GREETING',
    kind: 'string',
    default: 'Hello',
    help: 'what the Greeter says',
  },
  dataFile: {
    flag: 'data-file',
    env: 'AIOMISC_SAMPLE_DATA_FILE',
    kind: 'string',
    default: join(tmpdir(), 'aiomisc-sample-data.txt.gz'),
    help: 'gzip file that GET /file reads (written at start when missing)',
  },
  tickInterval: {
    flag: 'tick-interval',
    env: 'AIOMISC_SAMPLE_TICK_INTERVAL',
    kind: 'seconds',
    default: '1',
    help: 'seconds between two runs of the periodic upstream probe',
  },
  cron: {
    flag: 'cron',
    env: 'AIOMISC_SAMPLE_CRON',
    kind: 'string',
    default: '*/5 * * * * *',
    help: 'cron spec (with seconds) of the cron job',
  },
  workers: {
    flag: 'workers',
    env: 'AIOMISC_SAMPLE_WORKERS',
    kind: 'integer',
    default: '2',
    help: 'processes of the WorkerPool',
  },
  drainDelay: {
    flag: 'drain-delay',
    env: 'AIOMISC_SAMPLE_DRAIN_DELAY',
    kind: 'seconds',
    default: '0.5',
    help: 'seconds the servers keep accepting after readiness went false',
  },
  shutdownTimeout: {
    flag: 'shutdown-timeout',
    env: 'AIOMISC_SHUTDOWN_TIMEOUT',
    kind: 'seconds',
    default: '10',
    help: 'seconds the whole stop may take; then exit code 70',
  },
  upstreamFailureRate: {
    flag: 'upstream-failure-rate',
    env: 'AIOMISC_SAMPLE_UPSTREAM_FAILURE_RATE',
    kind: 'ratio',
    default: '0.1',
    help: 'share of requests the flaky upstream fails (0..1)',
  },
  upstreamOutageEvery: {
    flag: 'upstream-outage-every',
    env: 'AIOMISC_SAMPLE_UPSTREAM_OUTAGE_EVERY',
    kind: 'seconds',
    default: '30',
    help: 'seconds between two outages of the upstream (0: none)',
  },
  upstreamOutageFor: {
    flag: 'upstream-outage-for',
    env: 'AIOMISC_SAMPLE_UPSTREAM_OUTAGE_FOR',
    kind: 'seconds',
    default: '8',
    help: 'seconds each outage lasts',
  },
  hangOnStop: {
    flag: 'hang-on-stop',
    env: 'AIOMISC_SAMPLE_HANG_ON_STOP',
    kind: 'boolean',
    default: 'false',
    help: 'add a service whose stop() never returns (to see the shutdown timeout and exit code 70)',
    hidden: true,
  },
} satisfies Record<keyof SampleConfig, OptionSpec>;

/** The --help text: every flag, its variable and its default. */
export function helpText(): string {
  const rows = Object.values(specs).map((spec: OptionSpec) => {
    const flag = spec.kind === 'boolean' ? `--${spec.flag}` : `--${spec.flag} <${spec.kind}>`;
    const note = spec.hidden ? ' [testing]' : '';
    return `  ${flag.padEnd(34)} ${spec.help}${note}\n  ${''.padEnd(34)} env ${spec.env}, default ${spec.default}`;
  });
  return [
    'Usage: node apps/sample/dist/main.js [options]',
    '',
    'The aiomisc sample: an HTTP API and status page, a gRPC Greeter, a TCP echo server,',
    'periodic and cron jobs and a worker pool in one process. SIGINT/SIGTERM stop it gracefully.',
    '',
    'Options (a flag wins over its variable):',
    ...rows,
    `  ${'--help'.padEnd(34)} this text`,
    '',
    'Logging and the entrypoint read AIOMISC_LOG_LEVEL, AIOMISC_LOG_FORMAT (json, color, plain, ...),',
    'AIOMISC_LOG_BUFFERING and AIOMISC_POOL_SIZE (threads of the default thread pool).',
    '',
  ].join('\n');
}

function convert(key: string, spec: OptionSpec, raw: string, source: string): unknown {
  const name = `${source} (${key})`;
  switch (spec.kind) {
    case 'string':
      if (raw === '') throw new InvalidArgumentError(name, raw, 'a non-empty string');
      return raw;
    case 'boolean':
      if (['1', 'true', 'yes', 'on', ''].includes(raw.toLowerCase())) return true;
      if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
      throw new InvalidArgumentError(name, raw, 'true or false');
    default: {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value))
        throw new InvalidArgumentError(name, raw, `a number (${spec.kind})`);
      if (spec.kind === 'port' && (!Number.isInteger(value) || value < 0 || value > 65535))
        throw new InvalidArgumentError(name, raw, 'an integer port >= 0 <= 65535');
      if (spec.kind === 'integer' && (!Number.isInteger(value) || value < 1))
        throw new InvalidArgumentError(name, raw, 'an integer >= 1');
      if (spec.kind === 'ratio' && (value < 0 || value > 1))
        throw new InvalidArgumentError(name, raw, 'a ratio >= 0 <= 1');
      if (spec.kind === 'seconds') {
        if (value < 0) throw new InvalidArgumentError(name, raw, 'seconds >= 0');
        return value * 1000;
      }
      return value;
    }
  }
}

/** Parses flags (`argv` without node and the script) over `env`. */
export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { help: true } | { help: false; config: SampleConfig } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const spec of Object.values(specs) as OptionSpec[])
    options[spec.flag] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  if (values.help) return { help: true };
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs) as [string, OptionSpec][]) {
    const flag = values[spec.flag];
    if (flag !== undefined) {
      config[key] = convert(key, spec, flag === true ? 'true' : String(flag), `--${spec.flag}`);
    } else if (env[spec.env] !== undefined) {
      config[key] = convert(key, spec, env[spec.env]!, spec.env);
    } else {
      config[key] = convert(key, spec, spec.default, 'default');
    }
  }
  return { help: false, config: config as unknown as SampleConfig };
}
