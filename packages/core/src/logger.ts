import { writeSync } from 'node:fs';
import { globalSlot } from './global-registry';
import type { LogFormatName, LogLevelName } from './log-names';

/**
 * The logger interface the `@aiomisc/*` packages write to: the subset of pino's API they use,
 * so a pino logger (what `@aiomisc/log` installs) fits as is.
 */
export interface Logger {
  debug(message: string): void;
  debug(fields: object, message?: string): void;
  info(message: string): void;
  info(fields: object, message?: string): void;
  warn(message: string): void;
  warn(fields: object, message?: string): void;
  error(message: string): void;
  error(fields: object, message?: string): void;
}

/** Makes the logger for a component name, e.g. `aiomisc.entrypoint`. */
export type LoggerFactory = (name: string) => Logger;

type Method = 'debug' | 'info' | 'warn' | 'error';
const severity: Record<Method, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const levelThreshold: Record<LogLevelName, number> = {
  notset: 0,
  debug: 10,
  info: 20,
  warning: 30,
  error: 40,
  critical: 50,
};

const state = globalSlot('logger', () => ({
  factory: undefined as LoggerFactory | undefined,
  level: undefined as LogLevelName | undefined,
  format: undefined as LogFormatName | undefined,
}));

const sink = globalSlot('logger.stderr', () => ({ listening: false, failed: false }));

/**
 * Writes a line to stderr without ever throwing or crashing the process: a closed pipe
 * (EPIPE), a full disk (ENOSPC) or any other write error is swallowed, reported once on fd 2
 * if that still works, and the built-in logger drops its records from then on.
 */
function writeStderr(line: string): void {
  if (sink.failed) return;
  if (!sink.listening) {
    sink.listening = true;
    // Without a listener, an asynchronous write error on stderr is an uncaught 'error' event.
    process.stderr.on('error', onStderrError);
  }
  try {
    process.stderr.write(line);
  } catch (error) {
    onStderrError(error);
  }
}

function onStderrError(error: unknown): void {
  if (sink.failed) return;
  sink.failed = true;
  const code = (error as { code?: unknown } | undefined)?.code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : 'error';
  try {
    writeSync(2, `aiomisc: cannot write logs to stderr (${reason}); dropping them\n`);
  } catch {
    // stderr is gone for good: nothing left to tell
  }
}

function render(name: string, method: Method, message: string, fields: object | undefined): string {
  const error = (fields as { err?: unknown } | undefined)?.err;
  if (state.format === 'json') {
    const record: Record<string, unknown> = {
      time: Date.now(),
      level: method,
      name,
      msg: message,
      ...fields,
    };
    if (error instanceof Error)
      record.err = { type: error.name, message: error.message, stack: error.stack };
    try {
      return `${JSON.stringify(record)}\n`;
    } catch {
      // circular or BigInt fields: keep the message
      return `${JSON.stringify({ time: record.time, level: method, name, msg: message })}\n`;
    }
  }
  const detail = error instanceof Error ? `\n${error.stack ?? String(error)}` : '';
  return `${new Date().toISOString()} [${method.toUpperCase()}] ${name}: ${message}${detail}\n`;
}

function consoleLogger(name: string): Logger {
  const write =
    (method: Method) =>
    (first: string | object, second?: string): void => {
      const envLevel = process.env.AIOMISC_LOG_LEVEL?.toLowerCase() as LogLevelName | undefined;
      const threshold = levelThreshold[state.level ?? envLevel ?? 'info'] ?? levelThreshold.info;
      if (state.format === 'disabled' || severity[method] < threshold) return;
      const message = typeof first === 'string' ? first : (second ?? '');
      const fields = typeof first === 'string' ? undefined : first;
      writeStderr(render(name, method, message, fields));
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * Sets the level and format of the built-in stderr logger that the `@aiomisc/*` packages use
 * when no {@link setLoggerFactory} is installed. It writes JSON lines for `json`, nothing for
 * `disabled`, and `time [LEVEL] name: message` lines otherwise. The level defaults to
 * `AIOMISC_LOG_LEVEL`, then info.
 *
 * @example
 * ```ts
 * configureConsoleLogger({ level: 'debug', format: 'json' });
 * ```
 */
export function configureConsoleLogger(options: {
  level?: LogLevelName;
  format?: LogFormatName;
}): void {
  if (options.level !== undefined) state.level = options.level;
  if (options.format !== undefined) state.format = options.format;
}

/**
 * Replaces how the `@aiomisc/*` packages make their loggers. `@aiomisc/log` calls it from
 * `basicConfig`; without it they use the built-in stderr logger. Returns a function that
 * restores the previous factory.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const root = pino();
 * setLoggerFactory((name) => root.child({ name }));
 * ```
 */
export function setLoggerFactory(factory: LoggerFactory): () => void {
  const previous = state.factory;
  state.factory = factory;
  return () => {
    state.factory = previous;
  };
}

/**
 * The factory the `@aiomisc/*` loggers write through now: the one installed by
 * {@link setLoggerFactory}, else the built-in stderr logger. Wrap it to send records somewhere
 * else too, then install the wrapper with `setLoggerFactory`.
 *
 * @example
 * ```ts
 * const previous = getLoggerFactory();
 * let errors = 0;
 * const restore = setLoggerFactory((name) => {
 *   const base = previous(name);
 *   return { ...base, error: (first: never, second?: string) => (errors++, base.error(first, second)) };
 * });
 * ```
 */
export function getLoggerFactory(): LoggerFactory {
  return state.factory ?? consoleLogger;
}

/**
 * A logger that always writes through the current factory, so a factory installed later
 * (when an entrypoint configures logging) applies to loggers made before.
 *
 * @example
 * ```ts
 * const log = getLogger('my-service');
 * log.info({ port: 8080 }, 'listening');
 * ```
 */
export function getLogger(name: string): Logger {
  let cachedFactory: LoggerFactory | undefined;
  let cached: Logger | undefined;
  const current = (): Logger => {
    const factory = state.factory ?? consoleLogger;
    if (cachedFactory !== factory || !cached) {
      cachedFactory = factory;
      cached = factory(name);
    }
    return cached;
  };
  const forward =
    (method: Method) =>
    (first: string | object, second?: string): void => {
      const logger = current();
      if (second === undefined) logger[method](first as string);
      else logger[method](first as object, second);
    };
  return {
    debug: forward('debug'),
    info: forward('info'),
    warn: forward('warn'),
    error: forward('error'),
  };
}
