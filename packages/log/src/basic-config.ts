import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import {
  envBoolean,
  envChoice,
  envNumber,
  expectNumber,
  expectOneOf,
  InvalidArgumentError,
  InvalidStateError,
  LOG_FORMATS,
  LOG_LEVELS,
  setLoggerFactory,
  type LogFormatName,
  type LogLevelName,
} from '@aiomisc/core';
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';

/**
 * The loggers of this package: pino loggers with the seed's level names as extra methods,
 * `critical()` (pino's `fatal`, 60) and `warning()` (pino's `warn`, 40).
 *
 * @example
 * ```ts
 * const log: AiomiscLogger = getLogger('db');
 * log.warning('replica lagging');
 * log.critical({ err }, 'primary lost');
 * ```
 */
export type AiomiscLogger = PinoLogger<'critical' | 'warning'>;
import { strftime } from './date-format';
import { LogLevel } from './levels';
import { LogFormat } from './log-format';
import { createLineFormatter, type LineFormatOptions, type LogRecord } from './line-format';
import { resolveSyslog, type SyslogOptions } from './syslog-endpoint';
import type { SyslogEndpoint } from './syslog-sender';
import type { TransportOptions } from './transport';
import { wrapLoggingHandler } from './wrap-logging-handler';

/**
 * An extra destination for every record, the seed's `handlers=`:
 * - a pino destination stream (anything with `write(line)`), written on the main thread;
 * - `{ stream, level }`: the same with its own minimum level;
 * - `{ target, options, level }`: a pino transport module (e.g. `'pino/file'`,
 *   `'pino-loki'`), run in a worker thread by pino.
 *
 * @example
 * ```ts
 * basicConfig({
 *   logFormat: 'color',
 *   handlers: [
 *     { target: 'pino/file', options: { destination: '/var/log/app.json' }, level: 'warning' },
 *     { stream: { write: (line) => metrics.count(line) }, level: 'error' },
 *   ],
 * });
 * ```
 */
export type LogHandler =
  | DestinationStream
  | { stream: DestinationStream; level?: LogLevelName }
  | { target: string; options?: Record<string, unknown>; level?: LogLevelName };

/**
 * Options of {@link basicConfig}; every duration is in milliseconds.
 *
 * @example
 * ```ts
 * const options: BasicConfigOptions = { level: 'debug', logFormat: 'json', buffered: true, flushInterval: 500 };
 * basicConfig(options);
 * ```
 */
export interface BasicConfigOptions {
  /** Minimum level. @default 'info' (env AIOMISC_LOG_LEVEL) */
  level?: LogLevelName;
  /** Output format. @default journald under systemd, color on a TTY, else json (env AIOMISC_LOG_FORMAT) */
  logFormat?: LogFormatName;
  /** strftime date format; null: the format's default. @default null (env AIOMISC_LOG_DATE_FORMAT) */
  dateFormat?: string | null;
  /** Format and write records in a worker thread. @default true (env AIOMISC_LOG_BUFFERING) */
  buffered?: boolean;
  /** Records the worker keeps before it writes them out. @default 1024 (env AIOMISC_LOG_BUFFER_SIZE or AIOMISC_LOG_BUFFER) */
  bufferSize?: number;
  /** Longest a record waits in the worker's buffer, in ms. @default 200 (env AIOMISC_LOG_FLUSH, seconds) */
  flushInterval?: number;
  /** Extra destinations. @default [] */
  handlers?: readonly LogHandler[];
  /** Where the format writes: a file descriptor or a file path (appended). @default 2 (stderr) */
  destination?: number | string;
  /** The `syslog` format's endpoint, an object or a URL. @default 'udp://127.0.0.1:514' (env AIOMISC_LOG_SYSLOG) */
  syslog?: string | SyslogOptions;
  /** Force colour on or off for `color`, `rich` and `rich_tb`. @default FORCE_COLOR / NO_COLOR, else whether the destination is a TTY */
  color?: boolean;
}

interface Resolved {
  level: LogLevelName;
  format: LogFormatName;
  dateFormat: string | null;
  buffered: boolean;
  bufferSize: number;
  flushInterval: number;
  handlers: readonly LogHandler[];
  destination: number | string;
  syslog: SyslogEndpoint | null;
  color: boolean;
}

interface Sink {
  stream: DestinationStream;
  /** pino numeric level below which this sink skips a record. */
  level: number;
  flush(): Promise<void>;
  close(): void;
}

interface Output extends DestinationStream {
  sinks: Sink[];
  /** The one stream when no fan-out or level filtering is needed. */
  single: DestinationStream | undefined;
  fanOut: boolean;
  lastLevel: number;
  flush(callback?: (error?: Error) => void): void;
}

interface State {
  root: AiomiscLogger | undefined;
  loggers: Map<string, AiomiscLogger>;
  output: Output;
  sinkKey: string | undefined;
  handlers: readonly LogHandler[];
  timestamp: () => string;
  hooked: boolean;
  factoryInstalled: boolean;
}

/** What pino.transport() returns (thread-stream), as far as this module uses it. */
interface ThreadStreamLike extends DestinationStream {
  readonly closed: boolean;
  on(event: 'error', listener: (error: Error) => void): void;
  flushSync(): void;
  flush(callback: (error?: Error) => void): void;
  end(): void;
}

const needsMetadata = pino.symbols.needsMetadataGsym;
const epochTime = (): string => `,"time":${Date.now()}`;

function createOutput(): Output {
  const output: Output = {
    sinks: [],
    single: undefined,
    fanOut: false,
    lastLevel: 0,
    write(line: string): void {
      const single = output.single;
      if (single !== undefined) {
        single.write(line);
        return;
      }
      if (!output.fanOut) return;
      for (const sink of output.sinks) if (output.lastLevel >= sink.level) sink.stream.write(line);
    },
    flush(callback?: (error?: Error) => void): void {
      Promise.all(output.sinks.map((sink) => sink.flush())).then(
        () => callback?.(),
        (error: Error) => callback?.(error),
      );
    },
  };
  return output;
}

const state: State = ((globalThis as unknown as Record<symbol, State | undefined>)[Symbol.for('aiomisc.log.state')] ??= {
  root: undefined,
  loggers: new Map(),
  output: createOutput(),
  sinkKey: undefined,
  handlers: [],
  timestamp: epochTime,
  hooked: false,
  factoryInstalled: false,
});

function colourFromEnvironment(env: NodeJS.ProcessEnv): boolean | undefined {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return undefined;
}

function checkHandler(handler: unknown, index: number): LogHandler {
  const argument = `handlers[${index}]`;
  const expected = 'a stream with write(), { stream, level } or { target, options, level }';
  if (typeof handler !== 'object' || handler === null) throw new InvalidArgumentError(argument, handler, expected);
  const record = handler as Record<string, unknown>;
  if (record.level !== undefined) expectOneOf(`${argument}.level`, record.level, LOG_LEVELS);
  if (typeof record.target === 'string') return handler as LogHandler;
  if (typeof record.write === 'function') return handler as LogHandler;
  if (typeof record.stream === 'object' && record.stream !== null && typeof (record.stream as Record<string, unknown>).write === 'function') {
    return handler as LogHandler;
  }
  throw new InvalidArgumentError(argument, handler, expected);
}

function resolveOptions(options: BasicConfigOptions, env: NodeJS.ProcessEnv = process.env): Resolved {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'an object');
  }
  const level = expectOneOf('level', options.level ?? envChoice('AIOMISC_LOG_LEVEL', LOG_LEVELS, env) ?? LogLevel.default(), LOG_LEVELS);
  const destination = options.destination ?? 2;
  if (
    !(typeof destination === 'number' && Number.isInteger(destination) && destination >= 0) &&
    !(typeof destination === 'string' && destination !== '')
  ) {
    throw new InvalidArgumentError('destination', destination, 'a file descriptor (integer >= 0) or a file path');
  }
  const fd = typeof destination === 'number' ? destination : -1;
  const format = expectOneOf(
    'logFormat',
    options.logFormat ?? envChoice('AIOMISC_LOG_FORMAT', LOG_FORMATS, env) ?? LogFormat.default(fd === -1 ? 2 : fd, env),
    LOG_FORMATS,
  );
  const dateFormat = options.dateFormat !== undefined ? options.dateFormat : env.AIOMISC_LOG_DATE_FORMAT || null;
  if (dateFormat !== null && typeof dateFormat !== 'string') {
    throw new InvalidArgumentError('dateFormat', dateFormat, 'a strftime format string or null');
  }
  const buffered = options.buffered ?? envBoolean('AIOMISC_LOG_BUFFERING', env) ?? true;
  if (typeof buffered !== 'boolean') throw new InvalidArgumentError('buffered', buffered, 'a boolean');
  const bufferSize = expectNumber(
    'bufferSize',
    options.bufferSize ??
      envNumber('AIOMISC_LOG_BUFFER_SIZE', { min: 1, integer: true }, 1, env) ??
      envNumber('AIOMISC_LOG_BUFFER', { min: 1, integer: true }, 1, env) ??
      1024,
    { min: 1, integer: true },
  );
  const flushInterval = expectNumber(
    'flushInterval',
    options.flushInterval ?? envNumber('AIOMISC_LOG_FLUSH', { min: 0 }, 1000, env) ?? 200,
    { min: 0 },
  );
  const handlersOption: unknown = options.handlers ?? [];
  if (!Array.isArray(handlersOption)) throw new InvalidArgumentError('handlers', handlersOption, 'an array');
  const handlers = handlersOption.map((handler, index) => checkHandler(handler, index));
  const syslog = format === 'syslog' ? resolveSyslog(options.syslog ?? (env.AIOMISC_LOG_SYSLOG || undefined)) : null;
  const color = options.color ?? colourFromEnvironment(env) ?? (fd !== -1 && isatty(fd));
  if (typeof color !== 'boolean') throw new InvalidArgumentError('color', color, 'a boolean');
  return { level, format, dateFormat, buffered, bufferSize, flushInterval, handlers, destination, syslog, color };
}

/**
 * The path of the transport worker module: next to this bundle in `dist`, or in `../dist` when
 * this file runs from `src` (tests, tsx).
 */
function transportPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, 'transport.js'), join(here, '..', 'dist', 'transport.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new InvalidStateError(`the @aiomisc/log transport worker is missing next to ${here}; build the package first`);
}

function lineFormatOf(resolved: Resolved): LineFormatOptions | null {
  if (resolved.format === 'json' || resolved.format === 'disabled') return null;
  return {
    format: resolved.format,
    dateFormat: resolved.dateFormat,
    colorize: resolved.color,
    facility: resolved.syslog?.facility,
    appName: resolved.syslog?.appName,
    hostname: hostname(),
  };
}

/**
 * A failing transport worker must not take the application down with an unhandled 'error'
 * event: report it once on stderr (the one place left to report to).
 */
function reportWorkerErrors(stream: ThreadStreamLike): void {
  let reported = false;
  stream.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`@aiomisc/log: a transport worker failed: ${error?.stack ?? String(error)}\n`);
  });
}

function transportSink(options: TransportOptions): Sink {
  const stream = pino.transport<TransportOptions>({ target: transportPath(), options }) as unknown as ThreadStreamLike;
  reportWorkerErrors(stream);
  return {
    stream,
    level: 0,
    flush: () =>
      new Promise<void>((resolve, reject) => {
        if (stream.closed) {
          resolve();
          return;
        }
        stream.flush((error?: Error) => (error ? reject(error) : resolve()));
      }),
    close: () => {
      // flushSync first: end() alone returns at once while an async write is scheduled, and the
      // records would be written after basicConfig() returned instead of before.
      if (stream.closed) return;
      stream.flushSync();
      stream.end();
    },
  };
}

function formatSink(resolved: Resolved): Sink {
  const lineFormat = lineFormatOf(resolved);
  if (resolved.buffered || resolved.syslog) {
    // syslog always goes through the worker: the network is never written from the hot path.
    return transportSink({
      lineFormat,
      destination: resolved.destination,
      syslog: resolved.syslog,
      bufferSize: resolved.buffered ? resolved.bufferSize : 1,
      flushInterval: resolved.buffered ? resolved.flushInterval : 0,
    });
  }
  const { destination } = resolved;
  const boom =
    typeof destination === 'number'
      ? pino.destination({ fd: destination, sync: true })
      : pino.destination({ dest: destination, sync: true, mkdir: true, append: true });
  const close = (): void => {
    boom.flushSync();
    if (typeof destination === 'string') boom.end();
  };
  if (lineFormat === null) {
    return { stream: boom, level: 0, flush: () => Promise.resolve(boom.flushSync()), close };
  }
  const render = createLineFormatter(lineFormat);
  const stream: DestinationStream = {
    write(line: string): void {
      let text: string;
      try {
        text = render(JSON.parse(line) as LogRecord);
      } catch {
        text = line;
      }
      boom.write(text);
    },
  };
  return { stream, level: 0, flush: () => Promise.resolve(boom.flushSync()), close };
}

function handlerSinks(handlers: readonly LogHandler[], buffering: { bufferSize: number; flushInterval: number } | null): Sink[] {
  const sinks: Sink[] = [];
  const targets: { target: string; options: Record<string, unknown>; level: string }[] = [];
  let targetLevel = Infinity;
  for (const handler of handlers) {
    const level = pino.levels.values[LogLevel.toPino((handler as { level?: LogLevelName }).level ?? 'notset')]!;
    if ('target' in handler) {
      targets.push({ target: handler.target, options: handler.options ?? {}, level: LogLevel.toPino(handler.level ?? 'notset') });
      targetLevel = Math.min(targetLevel, level);
      continue;
    }
    const stream = 'stream' in handler ? handler.stream : handler;
    const flushable = stream as DestinationStream & { flushSync?: () => void };
    if (buffering) {
      // the seed buffers each user handler in buffered mode (wrap_logging_handler)
      const buffered = wrapLoggingHandler(stream, buffering);
      sinks.push({
        stream: buffered,
        level,
        flush: () => {
          buffered.flush();
          return Promise.resolve(flushable.flushSync?.());
        },
        close: () => buffered.close(),
      });
      continue;
    }
    sinks.push({
      stream,
      level,
      flush: () => Promise.resolve(flushable.flushSync?.()),
      close: () => undefined,
    });
  }
  if (targets.length > 0) {
    let stream: ThreadStreamLike;
    try {
      stream = pino.transport({ targets }) as unknown as ThreadStreamLike;
    } catch (error) {
      throw new InvalidArgumentError(
        'handlers',
        targets.map((target) => target.target).join(', '),
        `pino transport targets that resolve (${(error as Error).message})`,
      );
    }
    reportWorkerErrors(stream);
    sinks.push({
      stream,
      level: targetLevel,
      flush: () => new Promise<void>((resolve) => stream.flush(() => resolve())),
      close: () => {
        if (!stream.closed) stream.end();
      },
    });
  }
  return sinks;
}

function sinkKeyOf(resolved: Resolved): string {
  const { level: _level, handlers: _handlers, ...rest } = resolved;
  return JSON.stringify(rest);
}

function sameHandlers(a: readonly LogHandler[], b: readonly LogHandler[]): boolean {
  return a.length === b.length && a.every((handler, index) => handler === b[index]);
}

function installExceptionHook(): void {
  if (state.hooked) return;
  state.hooked = true;
  // Like the seed's sys.excepthook: the error that kills the process is logged (and, in
  // buffered mode, flushed by the exit hook) before Node prints it and exits.
  process.on('uncaughtExceptionMonitor', (error, origin) => {
    try {
      getLogger('unhandled').fatal({ err: error, origin }, `Unhandled exception: ${error?.message ?? String(error)}`);
    } catch {
      // logging must never mask the original error
    }
  });
}

/**
 * Configures logging for the whole process, on pino: the format writes to stderr (or
 * `destination`), `handlers` receive every record too, and in buffered mode records are
 * formatted and written by a worker thread. Safe to call again: an identical call changes
 * nothing, a different one replaces the outputs (the old worker writes everything it holds
 * first) and the level of every logger from {@link getLogger}. It also routes the log lines of
 * `@aiomisc/core` and the other `@aiomisc/*` packages here (core's `setLoggerFactory`).
 *
 * @returns the root pino logger.
 * @throws {@link InvalidArgumentError} for an unknown level or format (the message lists the
 *   choices) and any other bad option.
 *
 * @example
 * ```ts
 * import { basicConfig, getLogger } from '@aiomisc/log';
 *
 * basicConfig({ level: 'info', logFormat: 'color', buffered: false });
 * getLogger('app').info({ port: 8080 }, 'listening');
 * ```
 */
export function basicConfig(options: BasicConfigOptions = {}): AiomiscLogger {
  const resolved = resolveOptions(options);
  const level = LogLevel.toPino(resolved.level);
  const levelValue = pino.levels.values[level]!;
  const root = (state.root ??= pino(
    {
      level,
      customLevels: { critical: 60, warning: 40 },
      base: { pid: process.pid, hostname: hostname() },
      timestamp: epochTime,
    },
    state.output,
  ));
  const key = sinkKeyOf(resolved);
  if (key !== state.sinkKey || !sameHandlers(resolved.handlers, state.handlers)) {
    // Handlers first: a target pino cannot resolve throws here, before any worker was started,
    // and the previous configuration stays in place.
    const extra = handlerSinks(resolved.handlers, resolved.buffered ? resolved : null);
    const sinks = resolved.format === 'disabled' ? extra : [formatSink(resolved), ...extra];
    const previous = state.output.sinks;
    state.output.sinks = sinks;
    state.sinkKey = key;
    state.handlers = resolved.handlers;
    for (const sink of previous) sink.close();
  }
  const { output } = state;
  output.fanOut = output.sinks.length > 1 || output.sinks.some((sink) => sink.level > levelValue);
  output.single = !output.fanOut && output.sinks.length === 1 ? output.sinks[0]!.stream : undefined;
  (output as unknown as Record<symbol, boolean>)[needsMetadata] = output.fanOut;
  state.timestamp =
    resolved.format === 'json' && resolved.dateFormat !== null
      ? ((dateFormat: string) => () => `,"time":${JSON.stringify(strftime(dateFormat, Date.now()))}`)(resolved.dateFormat)
      : epochTime;
  // Child loggers inherit the time function from the root through their prototype, so setting
  // it here reaches every logger without a wrapper call per record.
  (root as unknown as Record<symbol, () => string>)[pino.symbols.timeSym] = state.timestamp;
  // Likewise the stream: with one output and no per-handler level, pino writes straight into it
  // (sonic-boom or the transport's thread-stream), exactly as raw pino does.
  (root as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym] = output.single ?? output;
  root.level = level;
  for (const logger of state.loggers.values()) logger.level = level;
  installExceptionHook();
  if (!state.factoryInstalled) {
    state.factoryInstalled = true;
    setLoggerFactory((name) => getLogger(name));
  }
  return root;
}

/**
 * The pino logger named `name` (its records carry `"name"`), one per name like Python's
 * `logging.getLogger`; its level follows every later {@link basicConfig}. Without a name, the
 * root logger. Before any `basicConfig` it configures the defaults, unbuffered.
 *
 * @example
 * ```ts
 * const log = getLogger('billing');
 * log.warn({ invoice: 42 }, 'payment retried');
 * log.child({ requestId: 'abc' }).info('request done');
 * ```
 */
export function getLogger(name?: string): AiomiscLogger {
  const root = state.root ?? basicConfig({ buffered: false });
  if (name === undefined) return root;
  let logger = state.loggers.get(name);
  if (!logger) {
    logger = root.child({ name });
    state.loggers.set(name, logger);
  }
  return logger;
}

/**
 * Writes out every record logged so far: the worker's buffer is written and (for syslog) sent.
 * Entrypoints call it when they stop; pino's exit hook does the same at process exit.
 *
 * @example
 * ```ts
 * getLogger('job').info('done');
 * await flush();
 * ```
 */
export async function flush(): Promise<void> {
  await Promise.all(state.output.sinks.map((sink) => sink.flush()));
}
