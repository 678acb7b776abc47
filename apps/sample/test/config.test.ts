import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { InvalidArgumentError } from '@aiomisc/core';
import { systemCommand } from '@aiomisc/test-kit';
import { describe, expect, it } from 'vitest';

import { helpText, loadConfig } from '../src/config';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const onATty = fileURLToPath(new URL('fixtures/on-a-tty.py', import.meta.url));

function config(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const result = loadConfig(argv, env);
  if (result.help) throw new Error('unexpected --help');
  return result.config;
}

function invalid(argv: string[], env: NodeJS.ProcessEnv = {}): InvalidArgumentError {
  try {
    loadConfig(argv, env);
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('loadConfig did not throw');
}

describe('loadConfig', () => {
  it('has fixed default ports and durations in ms (given in seconds)', () => {
    expect(config([])).toMatchObject({
      host: '127.0.0.1',
      httpPort: 8080,
      grpcPort: 50051,
      tcpPort: 7007,
      tickInterval: 1000,
      drainDelay: 500,
      shutdownTimeout: 10_000,
      hangOnStop: false,
    });
  });

  it('takes a flag over its AIOMISC_* variable, the variable over the default', () => {
    const env = {
      AIOMISC_SAMPLE_HTTP_PORT: '9000',
      AIOMISC_SAMPLE_GRPC_PORT: '9001',
      AIOMISC_SHUTDOWN_TIMEOUT: '2.5',
    };
    expect(config(['--http-port', '0'], env)).toMatchObject({
      httpPort: 0,
      grpcPort: 9001,
      shutdownTimeout: 2500,
    });
    expect(config(['--hang-on-stop'])).toMatchObject({ hangOnStop: true });
    expect(config([], { AIOMISC_SAMPLE_HANG_ON_STOP: '1' })).toMatchObject({ hangOnStop: true });
  });

  it('names the option and the value it refuses', () => {
    expect(invalid(['--http-port', '70000']).message).toBe(
      '--http-port (httpPort) must be an integer port >= 0 <= 65535, got "70000"',
    );
    expect(invalid([], { AIOMISC_SAMPLE_TCP_PORT: 'x' }).message).toMatch(
      /^AIOMISC_SAMPLE_TCP_PORT \(tcpPort\) must be a number/,
    );
    expect(invalid(['--upstream-failure-rate', '2']).argument).toBe(
      '--upstream-failure-rate (upstreamFailureRate)',
    );
    expect(invalid(['--drain-delay=-1']).value).toBe('-1');
    expect(invalid(['--workers', '0']).message).toMatch(/an integer >= 1/);
    expect(invalid([], { AIOMISC_SAMPLE_HANG_ON_STOP: 'maybe' }).message).toMatch(/true or false/);
    expect(() => loadConfig(['--no-such-flag'])).toThrow(/Unknown option '--no-such-flag'/);
  });

  it('lists every flag with its variable and default in --help, the testing one marked', () => {
    expect(loadConfig(['--help'])).toEqual({ help: true });
    const text = helpText();
    for (const flag of [
      '--http-port',
      '--grpc-port',
      '--tcp-port',
      '--drain-delay',
      '--shutdown-timeout',
      '--hang-on-stop',
    ])
      expect(text).toContain(flag);
    expect(text).toContain('env AIOMISC_SAMPLE_HTTP_PORT, default 8080');
    expect(text).toContain('env AIOMISC_SHUTDOWN_TIMEOUT, default 10');
    expect(text).toMatch(/--hang-on-stop .*\[testing\]/);
  });
});

describe('the built sample', () => {
  it('prints --help and exits 0; refuses a bad flag with exit 64 before binding anything', () => {
    const help = spawnSync(process.execPath, [main, '--help'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(helpText());
    const bad = spawnSync(process.execPath, [main, '--grpc-port=-1'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(
      /^--grpc-port \(grpcPort\) must be an integer port >= 0 <= 65535, got "-1"/,
    );
    expect(bad.stderr).not.toMatch(/listening/);
  });

  it.skipIf(!systemCommand('python3', { install: 'apt-get install python3' }))(
    'logs in a human-readable, coloured format on a terminal, and prints where each server listens',
    () => {
      const env = { ...process.env };
      delete env.AIOMISC_LOG_FORMAT;
      const run = spawnSync(
        'python3',
        [
          onATty,
          'sample started',
          '30',
          process.execPath,
          main,
          '--http-port',
          '0',
          '--grpc-port',
          '0',
          '--tcp-port',
          '0',
        ],
        { encoding: 'utf8', env, timeout: 45_000 },
      );
      expect(run.status).toBe(0);
      // eslint-disable-next-line no-control-regex
      const plain = run.stdout.replace(/\u001b\[[0-9;]*m/g, '');
      expect(run.stdout).toContain('\u001b[32mINFO\u001b[0m'); // green level names
      expect(plain).not.toMatch(/^\{"level"/m);
      expect(plain).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO:sample\.api: http listening on http:\/\/127\.0\.0\.1:\d+/m,
      );
      expect(plain).toMatch(/INFO:sample\.grpc: grpc listening on 127\.0\.0\.1:\d+/);
      expect(plain).toMatch(/INFO:sample\.echo: tcp echo listening on 127\.0\.0\.1:\d+/);
      expect(plain).toMatch(/INFO:sample: status page on http:\/\/127\.0\.0\.1:\d+\//);
      expect(plain).toMatch(/Stopped 8 services/);
    },
    60_000,
  );
});
