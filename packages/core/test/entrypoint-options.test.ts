import { describe, expect, it } from 'vitest';
import { defaultPoolSize, InvalidArgumentError, resolveEntrypointOptions } from '../src/index';

function errorOf(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('resolveEntrypointOptions', () => {
  it('has the seed defaults', () => {
    const options = resolveEntrypointOptions({}, {});
    expect(options).toEqual({
      poolSize: defaultPoolSize(),
      logLevel: 'info',
      logFormat: undefined,
      logDateFormat: null,
      logBuffering: true,
      logBufferSize: 1024,
      logFlushInterval: 200,
      logConfig: true,
      logHandlers: [],
      catchSignals: ['SIGINT', 'SIGTERM'],
      shutdownTimeout: 60_000,
      debug: false,
      plugins: true,
    });
    expect(defaultPoolSize()).toBeGreaterThanOrEqual(4);
    expect(defaultPoolSize()).toBeLessThanOrEqual(32);
  });

  it('applies AIOMISC_* variables, converting seconds to ms', () => {
    const options = resolveEntrypointOptions(
      {},
      {
        AIOMISC_POOL_SIZE: '7',
        AIOMISC_LOG_LEVEL: 'DEBUG',
        AIOMISC_LOG_FORMAT: 'json',
        AIOMISC_LOG_DATE_FORMAT: '%H:%M',
        AIOMISC_LOG_CONFIG: 'no',
        AIOMISC_LOG_FLUSH: '0.5',
        AIOMISC_LOG_BUFFERING: 'off',
        AIOMISC_LOG_BUFFER_SIZE: '10',
        AIOMISC_SHUTDOWN_TIMEOUT: '2.5',
        AIOMISC_DEBUG: 'yes',
        AIOMISC_NO_PLUGINS: '1',
      },
    );
    expect(options).toMatchObject({
      poolSize: 7,
      logLevel: 'debug',
      logFormat: 'json',
      logDateFormat: '%H:%M',
      logConfig: false,
      logFlushInterval: 500,
      logBuffering: false,
      logBufferSize: 10,
      shutdownTimeout: 2500,
      debug: true,
      plugins: false,
    });
    expect(resolveEntrypointOptions({}, { AIOMISC_LOG_BUFFER: '5' }).logBufferSize).toBe(5);
  });

  it('lets explicit options win over the environment', () => {
    const options = resolveEntrypointOptions(
      { poolSize: 2, logLevel: 'error', shutdownTimeout: 10, logBuffering: true },
      {
        AIOMISC_POOL_SIZE: '7',
        AIOMISC_LOG_LEVEL: 'debug',
        AIOMISC_SHUTDOWN_TIMEOUT: '3',
        AIOMISC_LOG_BUFFERING: '0',
      },
    );
    expect(options).toMatchObject({
      poolSize: 2,
      logLevel: 'error',
      shutdownTimeout: 10,
      logBuffering: true,
    });
  });

  it('names the bad value of an option', () => {
    expect(errorOf(() => resolveEntrypointOptions({ logFormat: 'xml' as never }, {})).message).toBe(
      'logFormat must be one of stream, color, json, syslog, plain, journald, rich, rich_tb, disabled, got "xml"',
    );
    expect(
      errorOf(() => resolveEntrypointOptions({ logLevel: 'loud' as never }, {})).argument,
    ).toBe('logLevel');
    expect(errorOf(() => resolveEntrypointOptions({ shutdownTimeout: -1 }, {})).message).toContain(
      'got -1',
    );
    expect(
      errorOf(() => resolveEntrypointOptions({ shutdownTimeout: Number.NaN }, {})).message,
    ).toContain('got NaN');
    expect(errorOf(() => resolveEntrypointOptions({ poolSize: 0 }, {})).message).toContain(
      'poolSize',
    );
    expect(
      errorOf(() => resolveEntrypointOptions({ catchSignals: ['SIGNOPE' as never] }, {})).message,
    ).toContain('"SIGNOPE"');
    expect(errorOf(() => resolveEntrypointOptions({ catchSignals: ['SIGKILL'] }, {})).value).toBe(
      'SIGKILL',
    );
  });

  it.each([
    ['logBuffering', 'no'],
    ['logConfig', 0],
    ['debug', 'yes'],
    ['plugins', 'false'],
  ])('refuses a %s that is not a boolean (%j)', (option, value) => {
    const error = errorOf(() => resolveEntrypointOptions({ [option]: value as never }, {}));
    expect(error.argument).toBe(option);
    expect(error.value).toBe(value);
    expect(error.message).toContain('must be true or false');
  });

  it('refuses logHandlers that are not an array and a logDateFormat that is not a string', () => {
    expect(
      errorOf(() => resolveEntrypointOptions({ logHandlers: 'stderr' as never }, {})).argument,
    ).toBe('logHandlers');
    expect(
      errorOf(() => resolveEntrypointOptions({ logDateFormat: 5 as never }, {})).argument,
    ).toBe('logDateFormat');
  });

  it('takes Infinity as no shutdown limit, from the option or the variable', () => {
    expect(resolveEntrypointOptions({ shutdownTimeout: Infinity }, {}).shutdownTimeout).toBe(
      Infinity,
    );
    expect(
      resolveEntrypointOptions({}, { AIOMISC_SHUTDOWN_TIMEOUT: 'Infinity' }).shutdownTimeout,
    ).toBe(Infinity);
    expect(
      resolveEntrypointOptions({}, { AIOMISC_SHUTDOWN_TIMEOUT: '3000000' }).shutdownTimeout,
    ).toBe(3_000_000_000);
  });

  it('names the bad value of an environment variable', () => {
    expect(
      errorOf(() => resolveEntrypointOptions({}, { AIOMISC_SHUTDOWN_TIMEOUT: 'soon' })).message,
    ).toBe('AIOMISC_SHUTDOWN_TIMEOUT must be a number, got "soon"');
    expect(
      errorOf(() => resolveEntrypointOptions({}, { AIOMISC_LOG_FORMAT: 'xml' })).argument,
    ).toBe('AIOMISC_LOG_FORMAT');
    expect(
      errorOf(() => resolveEntrypointOptions({}, { AIOMISC_LOG_BUFFERING: 'maybe' })).value,
    ).toBe('maybe');
    expect(errorOf(() => resolveEntrypointOptions({}, { AIOMISC_POOL_SIZE: '-2' })).argument).toBe(
      'AIOMISC_POOL_SIZE',
    );
  });
});
