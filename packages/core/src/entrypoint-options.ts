import { availableParallelism } from 'node:os';
import { constants } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { envBoolean, envChoice, envNumber } from './environment';
import { InvalidArgumentError } from './errors/invalid-argument-error';
import { LOG_FORMATS, LOG_LEVELS, type LogFormatName, type LogLevelName } from './log-names';
import type { Service } from './service';
import { expectBoolean, expectNumber, expectOneOf } from './validate';

/** Options of {@link entrypoint}; every duration is in milliseconds. */
export interface EntrypointOptions {
  /** Services started by `start()`. @default [] */
  services?: Iterable<Service<object>>;
  /** Threads of the default pool that `@aiomisc/pool` installs. @default CPU count clamped to 4..32 (env AIOMISC_POOL_SIZE) */
  poolSize?: number;
  /** @default 'info' (env AIOMISC_LOG_LEVEL) */
  logLevel?: LogLevelName;
  /** @default journald under systemd, color on a TTY, else json (env AIOMISC_LOG_FORMAT) */
  logFormat?: LogFormatName;
  /** strftime-like date format for human formats. @default null (env AIOMISC_LOG_DATE_FORMAT) */
  logDateFormat?: string | null;
  /** Write logs off the main thread. @default true (env AIOMISC_LOG_BUFFERING) */
  logBuffering?: boolean;
  /** Records buffered before a flush. @default 1024 (env AIOMISC_LOG_BUFFER_SIZE) */
  logBufferSize?: number;
  /** Longest time a record waits in the buffer. @default 200 (env AIOMISC_LOG_FLUSH, seconds) */
  logFlushInterval?: number;
  /** Configure logging at start; false leaves your own setup alone. @default true (env AIOMISC_LOG_CONFIG) */
  logConfig?: boolean;
  /** Extra destinations handed to the logging extension. @default [] */
  logHandlers?: readonly unknown[];
  /** Signals that start a graceful stop. @default ['SIGINT', 'SIGTERM'] in the main thread, else [] */
  catchSignals?: readonly NodeJS.Signals[];
  /** Longest the whole stop (receivers, services, extension teardown) may take before it is cut (exit code 70 on a signal); `Infinity` for no limit. @default 60000 (env AIOMISC_SHUTDOWN_TIMEOUT, seconds) */
  shutdownTimeout?: number;
  /** Debug mode: logs each service's start and stop. @default false (env AIOMISC_DEBUG) */
  debug?: boolean;
  /** Load plugins declared in package.json files at start. @default true unless AIOMISC_NO_PLUGINS is set */
  plugins?: boolean;
}

/** The options after defaults and `AIOMISC_*` variables were applied; explicit options win. */
export interface ResolvedEntrypointOptions {
  poolSize: number;
  logLevel: LogLevelName;
  logFormat: LogFormatName | undefined;
  logDateFormat: string | null;
  logBuffering: boolean;
  logBufferSize: number;
  logFlushInterval: number;
  logConfig: boolean;
  logHandlers: readonly unknown[];
  catchSignals: readonly NodeJS.Signals[];
  shutdownTimeout: number;
  debug: boolean;
  plugins: boolean;
}

/** Largest thread pool `@aiomisc/pool` makes; `poolSize` and AIOMISC_POOL_SIZE are checked against it at once. */
const MAX_POOL_SIZE = 1024;

/** CPU count clamped to 4..32: the seed's default thread pool size. */
export function defaultPoolSize(): number {
  // The CPU count is asked once: availableParallelism() costs microseconds a call.
  cachedPoolSize ??= Math.min(Math.max(availableParallelism(), 4), 32);
  return cachedPoolSize;
}
let cachedPoolSize: number | undefined;

/**
 * Applies defaults and `AIOMISC_*` environment variables to entrypoint options, validating
 * each; explicit options win over the environment.
 * @throws {@link InvalidArgumentError} naming the option or variable and the bad value.
 */
export function resolveEntrypointOptions(
  options: EntrypointOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedEntrypointOptions {
  const pick = <TValue>(
    explicit: TValue | undefined,
    fromEnv: () => TValue | undefined,
    fallback: TValue,
  ) => (explicit !== undefined ? explicit : (fromEnv() ?? fallback));
  const catchSignals = options.catchSignals ?? (isMainThread ? ['SIGINT', 'SIGTERM'] : []);
  if (!Array.isArray(catchSignals)) {
    throw new InvalidArgumentError('catchSignals', catchSignals, 'an array of signal names');
  }
  for (const signal of catchSignals) {
    if (
      typeof signal !== 'string' ||
      !(signal in constants.signals) ||
      signal === 'SIGKILL' ||
      signal === 'SIGSTOP'
    ) {
      throw new InvalidArgumentError(
        'catchSignals',
        signal,
        'a signal name that can be caught, such as "SIGTERM"',
      );
    }
  }
  return {
    poolSize: expectNumber(
      'poolSize',
      pick(
        options.poolSize,
        () => envNumber('AIOMISC_POOL_SIZE', { min: 1, max: MAX_POOL_SIZE, integer: true }, 1, env),
        defaultPoolSize(),
      ),
      { min: 1, max: MAX_POOL_SIZE, integer: true },
    ),
    logLevel: expectOneOf(
      'logLevel',
      pick(options.logLevel, () => envChoice('AIOMISC_LOG_LEVEL', LOG_LEVELS, env), 'info'),
      LOG_LEVELS,
    ),
    logFormat:
      options.logFormat !== undefined
        ? expectOneOf('logFormat', options.logFormat, LOG_FORMATS)
        : envChoice('AIOMISC_LOG_FORMAT', LOG_FORMATS, env),
    logDateFormat: expectDateFormat(
      pick(options.logDateFormat, () => env.AIOMISC_LOG_DATE_FORMAT || undefined, null),
    ),
    logBuffering: expectBoolean(
      'logBuffering',
      pick(options.logBuffering, () => envBoolean('AIOMISC_LOG_BUFFERING', env), true),
    ),
    logBufferSize: expectNumber(
      'logBufferSize',
      pick(
        options.logBufferSize,
        () =>
          envNumber('AIOMISC_LOG_BUFFER_SIZE', { min: 1, integer: true }, 1, env) ??
          envNumber('AIOMISC_LOG_BUFFER', { min: 1, integer: true }, 1, env),
        1024,
      ),
      { min: 1, integer: true },
    ),
    logFlushInterval: expectNumber(
      'logFlushInterval',
      pick(
        options.logFlushInterval,
        () => envNumber('AIOMISC_LOG_FLUSH', { min: 0 }, 1000, env),
        200,
      ),
      { min: 0 },
    ),
    logConfig: expectBoolean(
      'logConfig',
      pick(options.logConfig, () => envBoolean('AIOMISC_LOG_CONFIG', env), true),
    ),
    logHandlers: expectArray('logHandlers', options.logHandlers ?? []),
    catchSignals,
    shutdownTimeout: expectNumber(
      'shutdownTimeout',
      pick(
        options.shutdownTimeout,
        () => envNumber('AIOMISC_SHUTDOWN_TIMEOUT', { min: 0, allowInfinity: true }, 1000, env),
        60_000,
      ),
      { min: 0, allowInfinity: true },
    ),
    debug: expectBoolean(
      'debug',
      pick(options.debug, () => envBoolean('AIOMISC_DEBUG', env), false),
    ),
    plugins: expectBoolean(
      'plugins',
      pick(options.plugins, () => (env.AIOMISC_NO_PLUGINS ? false : undefined), true),
    ),
  };
}

function expectDateFormat(value: unknown): string | null {
  if (value !== null && typeof value !== 'string') {
    throw new InvalidArgumentError('logDateFormat', value, 'a string or null');
  }
  return value;
}

function expectArray(argument: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(argument, value, 'an array');
  return value;
}
