import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getLogger as coreLogger,
  InvalidArgumentError,
  LOG_FORMATS,
  LOG_LEVELS,
} from '@aiomisc/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { basicConfig, flush, getLogger, LogFormat, LogLevel, strftime } from '../src/index';
import { readLines, runFixture, temporaryDirectory } from './helpers';

const dir = temporaryDirectory();
let serial = 0;
const file = (): string => join(dir, `config-${serial++}.log`);

afterAll(() => {
  basicConfig({ logFormat: 'disabled', buffered: false });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('LogFormat and LogLevel', () => {
  it('lists the seed formats and levels', () => {
    expect(LogFormat.choices()).toEqual([...LOG_FORMATS]);
    expect(LogFormat.choices()).toEqual([
      'stream',
      'color',
      'json',
      'syslog',
      'plain',
      'journald',
      'rich',
      'rich_tb',
      'disabled',
    ]);
    expect(LogLevel.choices()).toEqual([...LOG_LEVELS]);
    expect(LogLevel.default()).toBe('info');
  });

  it('maps the seed levels to pino levels', () => {
    expect(LOG_LEVELS.map((level) => LogLevel.toPino(level))).toEqual([
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
    ]);
  });
});

describe('basicConfig input', () => {
  it('rejects an unknown format, naming the value and listing the choices', () => {
    const error = catchError(() => basicConfig({ logFormat: 'xml' as never }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('logFormat');
    expect(message).toContain('"xml"');
    for (const format of LOG_FORMATS) expect(message).toContain(format);
  });

  it('rejects an unknown level, naming the value and listing the choices', () => {
    const error = catchError(() => basicConfig({ level: 'verbose' as never }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('"verbose"');
    for (const level of LOG_LEVELS) expect((error as Error).message).toContain(level);
  });

  it('rejects bad AIOMISC_* values, naming the variable', () => {
    vi.stubEnv('AIOMISC_LOG_FORMAT', 'xml');
    const error = catchError(() => basicConfig());
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('AIOMISC_LOG_FORMAT');
    vi.unstubAllEnvs();
  });

  it.each([
    [{ bufferSize: 0 }, 'bufferSize'],
    [{ flushInterval: -1 }, 'flushInterval'],
    [{ handlers: [42] as never }, 'handlers[0]'],
    [{ destination: -1 }, 'destination'],
    [{ logFormat: 'syslog', syslog: 'http://x' } as const, 'syslog'],
    [{ logFormat: 'syslog', syslog: { port: 70_000 } } as const, 'syslog.port'],
    [{ handlers: [{ target: 'no-such-pino-transport' }] }, 'handlers'],
    [{ drainTimeout: -1 }, 'drainTimeout'],
    [{ drainTimeout: Number.NaN }, 'drainTimeout'],
    [{ drainTimeout: '5s' as never }, 'drainTimeout'],
    [{ transportWorker: '' }, 'transportWorker'],
    [{ buffered: false, destination: '/dev/null/cannot/be/made.log' }, 'destination'],
  ])('rejects %j', (options, argument) => {
    const error = catchError(() => basicConfig(options));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe(argument);
  });
});

describe('basicConfig input, continued', () => {
  it('rejects a bad AIOMISC_LOG_DRAIN_TIMEOUT, naming the variable', () => {
    vi.stubEnv('AIOMISC_LOG_DRAIN_TIMEOUT', 'soon');
    try {
      const error = catchError(() => basicConfig({ logFormat: 'disabled', buffered: false }));
      expect((error as InvalidArgumentError).argument).toBe('AIOMISC_LOG_DRAIN_TIMEOUT');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('accepts drainTimeout 0, Infinity and 2^31 ms or more', () => {
    for (const drainTimeout of [0, Infinity, 2 ** 31]) {
      expect(() =>
        basicConfig({ logFormat: 'disabled', buffered: false, drainTimeout }),
      ).not.toThrow();
    }
  });

  it('names the missing transport worker and what to do when bundling', () => {
    const error = catchError(() =>
      basicConfig({ logFormat: 'json', buffered: true, transportWorker: join(dir, 'missing.js') }),
    );
    expect((error as Error).message).toContain(
      `the @aiomisc/log transport worker ${join(dir, 'missing.js')} (the transportWorker option) was not found; when bundling`,
    );
  });

  it('keeps the previous configuration when a new one is rejected, and starts nothing', async () => {
    const path = file();
    basicConfig({ logFormat: 'plain', buffered: false, destination: path });
    catchError(() =>
      basicConfig({ logFormat: 'json', buffered: true, transportWorker: join(dir, 'missing.js') }),
    );
    getLogger('kept').info('still plain');
    await flush();
    expect(readLines(path)).toEqual(['still plain']);
  });
});

describe('basicConfig behaviour', () => {
  it('honours AIOMISC_LOG_LEVEL, AIOMISC_LOG_FORMAT and AIOMISC_LOG_DATE_FORMAT; options win', async () => {
    vi.stubEnv('AIOMISC_LOG_LEVEL', 'warning');
    vi.stubEnv('AIOMISC_LOG_FORMAT', 'stream');
    vi.stubEnv('AIOMISC_LOG_DATE_FORMAT', '<%Y>');
    vi.stubEnv('AIOMISC_LOG_BUFFERING', 'false');
    const path = file();
    basicConfig({ destination: path });
    getLogger('env').info('hidden');
    getLogger('env').warn('shown');
    await flush();
    expect(readLines(path)).toEqual([`<${new Date().getFullYear()}> WARNING:env:shown`]);
    const second = file();
    basicConfig({ destination: second, level: 'info', logFormat: 'plain' });
    getLogger('env').info('now shown');
    await flush();
    expect(readLines(second)).toEqual(['now shown']);
    vi.unstubAllEnvs();
  });

  it('honours AIOMISC_LOG_BUFFER_SIZE in buffered mode', async () => {
    vi.stubEnv('AIOMISC_LOG_BUFFER_SIZE', '3');
    vi.stubEnv('AIOMISC_LOG_FLUSH', '600');
    const path = file();
    basicConfig({ destination: path, logFormat: 'plain', buffered: true });
    for (const word of ['a', 'b', 'c']) getLogger('env').info(word);
    // the interval is 10 minutes: only a full buffer of 3 can have written them
    await expect
      .poll(() => (existsSync(path) ? readLines(path) : []), { timeout: 10_000 })
      .toEqual(['a', 'b', 'c']);
    vi.unstubAllEnvs();
  });

  it('honours AIOMISC_LOG_FLUSH (seconds) in buffered mode', async () => {
    vi.stubEnv('AIOMISC_LOG_BUFFER', '1000000');
    vi.stubEnv('AIOMISC_LOG_FLUSH', '0.05');
    const path = file();
    basicConfig({ destination: path, logFormat: 'plain', buffered: true });
    getLogger('env').info('alone');
    // the buffer never fills: only the 50 ms interval can have written it
    await expect
      .poll(() => (existsSync(path) ? readLines(path) : []), { timeout: 10_000 })
      .toEqual(['alone']);
    vi.unstubAllEnvs();
  });

  it('gives loggers the seed level names as methods', async () => {
    const path = file();
    basicConfig({
      destination: path,
      logFormat: 'stream',
      dateFormat: '',
      buffered: false,
      level: 'warning',
    });
    getLogger('seed').info('below warning');
    getLogger('seed').warning('careful');
    getLogger('seed').critical('on fire');
    await flush();
    expect(readLines(path)).toEqual(['WARNING:seed:careful', 'CRITICAL:seed:on fire']);
  });

  it('returns one logger per name whose level follows later calls', async () => {
    const path = file();
    basicConfig({ destination: path, logFormat: 'plain', buffered: false, level: 'error' });
    const log = getLogger('same');
    expect(getLogger('same')).toBe(log);
    log.warn('dropped');
    basicConfig({ destination: path, logFormat: 'plain', buffered: false, level: 'debug' });
    log.debug('kept');
    await flush();
    expect(readLines(path)).toEqual(['kept']);
  });

  it('is idempotent and a reconfiguration writes out what the old worker held', async () => {
    const first = file();
    const held = {
      logFormat: 'plain',
      buffered: true,
      bufferSize: 1_000_000,
      flushInterval: 600_000,
      destination: first,
    } as const;
    const root = basicConfig(held);
    getLogger('idem').info('one');
    expect(basicConfig({ ...held })).toBe(root);
    getLogger('idem').info('two');
    const second = file();
    basicConfig({ ...held, destination: second });
    expect(readLines(first)).toEqual(['one', 'two']);
    getLogger('idem').info('three');
    await flush();
    expect(readLines(second)).toEqual(['three']);
  });

  it('sends records to handlers, each with its own level', async () => {
    const all: string[] = [];
    const errors: string[] = [];
    const target = file();
    const path = file();
    basicConfig({
      destination: path,
      logFormat: 'plain',
      buffered: false,
      handlers: [
        { write: (line: string) => all.push(line) },
        { stream: { write: (line: string) => errors.push(line) }, level: 'error' },
        { target: 'pino/file', options: { destination: target }, level: 'warning' },
      ],
    });
    getLogger('h').info('info record');
    getLogger('h').error('error record');
    await flush();
    expect(all.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'info record',
      'error record',
    ]);
    expect(errors.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'error record',
    ]);
    await expect
      .poll(() => readFileSync(target, 'utf8').split('\n').length, { timeout: 5000 })
      .toBe(2);
    expect(JSON.parse(readLines(target)[0]!)).toMatchObject({ msg: 'error record', name: 'h' });
    expect(readLines(path)).toEqual(['info record', 'error record']);
  });

  it('routes the loggers of @aiomisc/core through pino', async () => {
    const path = file();
    basicConfig({ destination: path, logFormat: 'json', buffered: false });
    coreLogger('aiomisc.test').info({ answer: 42 }, 'from core');
    await flush();
    expect(JSON.parse(readLines(path)[0]!)).toMatchObject({
      name: 'aiomisc.test',
      msg: 'from core',
      answer: 42,
      level: 30,
    });
  });
});

describe('default format', () => {
  it('is journald when stderr is the JOURNAL_STREAM, else json off a TTY', async () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'default-format.ts');
    const journal = file();
    const fd = openSync(journal, 'w');
    try {
      const stat = fstatSync(fd, { bigint: true });
      const result = await runFixture(fixture, [], {
        stdio: ['ignore', 'pipe', fd],
        env: { JOURNAL_STREAM: `${stat.dev}:${stat.ino}` },
      });
      expect(result.stdout).toBe('journald\n');
      expect(readLines(journal)).toEqual(['<4>svc: disk almost full']);
    } finally {
      closeSync(fd);
    }
    const other = await runFixture(fixture, [], { env: { JOURNAL_STREAM: '1:2' } });
    expect(other.stdout).toBe('json\n');
    expect(JSON.parse(other.stderr.trim())).toMatchObject({
      level: 40,
      name: 'svc',
      msg: 'disk almost full',
    });
  });
});

describe('strftime', () => {
  it('formats Python directives in local time', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 678).getTime();
    expect(strftime('%Y-%m-%d %H:%M:%S.%f %j %a %b %p %%', time)).toBe(
      '2026-01-02 03:04:05.678000 002 Fri Jan AM %',
    );
    expect(strftime('[%X] %s %q', time)).toBe(`[03:04:05] ${(time / 1000).toFixed(3)} %q`);
  });
});
