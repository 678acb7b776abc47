import { hostname } from 'node:os';
import { isatty } from 'node:tty';
import {
  envBoolean,
  envChoice,
  envNumber,
  expectNumber,
  expectOneOf,
  InvalidArgumentError,
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
import { handlerSinks, writeToHandler } from './handler-sinks';
import {
  checkPinoPretty,
  createLineFormatter,
  type LineFormatOptions,
  type LogRecord,
} from './line-format';
import { describeError } from './report';
import type { Sink } from './sink';
import { SyncWriter } from './sync-writer';
import { resolveSyslog, type SyslogOptions } from './syslog-endpoint';
import type { SyslogEndpoint } from './syslog-sender';
import { transportSink } from './transport-sink';

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
  /**
   * How long a destination may take no data at all before the process gives up waiting for it,
   * in ms: at exit and when `basicConfig` replaces the outputs (buffered mode: the worker's
   * records), in `flush()`, and in unbuffered mode for a full pipe. As long as the destination
   * keeps taking data there is no limit. At the bound the records still held are dropped and
   * their number is written to stderr. `Infinity`: wait for ever.
   * @default 30000 (env AIOMISC_LOG_DRAIN_TIMEOUT, seconds)
   */
  drainTimeout?: number;
  /**
   * Path of the transport worker file (`@aiomisc/log/transport`) for buffered mode, for an app
   * bundled into files where the package's own `dist/transport.js` is not next to the code (see
   * "Bundling" in the README). @default globalThis.__bundlerPathsOverrides['@aiomisc/log/transport'], else the package's own file
   */
  transportWorker?: string;
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
  drainTimeout: number;
  transportWorker: string | undefined;
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
      for (const sink of output.sinks) {
        if (output.lastLevel < sink.level) continue;
        if (sink.safe) sink.stream.write(line);
        else writeToHandler(sink, line);
      }
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

const state: State = ((globalThis as unknown as Record<symbol, State | undefined>)[
  Symbol.for('aiomisc.log.state')
] ??= {
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
  if (typeof handler !== 'object' || handler === null)
    throw new InvalidArgumentError(argument, handler, expected);
  const record = handler as Record<string, unknown>;
  if (record.level !== undefined) expectOneOf(`${argument}.level`, record.level, LOG_LEVELS);
  if (typeof record.target === 'string') return handler as LogHandler;
  if (typeof record.write === 'function') return handler as LogHandler;
  if (
    typeof record.stream === 'object' &&
    record.stream !== null &&
    typeof (record.stream as Record<string, unknown>).write === 'function'
  ) {
    return handler as LogHandler;
  }
  throw new InvalidArgumentError(argument, handler, expected);
}

function resolveOptions(
  options: BasicConfigOptions,
  env: NodeJS.ProcessEnv = process.env,
): Resolved {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'an object');
  }
  const level = expectOneOf(
    'level',
    options.level ?? envChoice('AIOMISC_LOG_LEVEL', LOG_LEVELS, env) ?? LogLevel.default(),
    LOG_LEVELS,
  );
  const destination = options.destination ?? 2;
  if (
    !(typeof destination === 'number' && Number.isInteger(destination) && destination >= 0) &&
    !(typeof destination === 'string' && destination !== '')
  ) {
    throw new InvalidArgumentError(
      'destination',
      destination,
      'a file descriptor (integer >= 0) or a file path',
    );
  }
  const fd = typeof destination === 'number' ? destination : -1;
  const format = expectOneOf(
    'logFormat',
    options.logFormat ??
      envChoice('AIOMISC_LOG_FORMAT', LOG_FORMATS, env) ??
      LogFormat.default(fd === -1 ? 2 : fd, env),
    LOG_FORMATS,
  );
  const dateFormat =
    options.dateFormat !== undefined ? options.dateFormat : env.AIOMISC_LOG_DATE_FORMAT || null;
  if (dateFormat !== null && typeof dateFormat !== 'string') {
    throw new InvalidArgumentError('dateFormat', dateFormat, 'a strftime format string or null');
  }
  const buffered = options.buffered ?? envBoolean('AIOMISC_LOG_BUFFERING', env) ?? true;
  if (typeof buffered !== 'boolean')
    throw new InvalidArgumentError('buffered', buffered, 'a boolean');
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
  if (!Array.isArray(handlersOption))
    throw new InvalidArgumentError('handlers', handlersOption, 'an array');
  const handlers = handlersOption.map((handler, index) => checkHandler(handler, index));
  const syslog =
    format === 'syslog'
      ? resolveSyslog(options.syslog ?? (env.AIOMISC_LOG_SYSLOG || undefined))
      : null;
  const color = options.color ?? colourFromEnvironment(env) ?? (fd !== -1 && isatty(fd));
  if (typeof color !== 'boolean') throw new InvalidArgumentError('color', color, 'a boolean');
  const drainTimeout = expectNumber(
    'drainTimeout',
    options.drainTimeout ??
      envNumber('AIOMISC_LOG_DRAIN_TIMEOUT', { min: 0, allowInfinity: true }, 1000, env) ??
      30_000,
    { min: 0, allowInfinity: true },
  );
  const transportWorker = options.transportWorker;
  if (
    transportWorker !== undefined &&
    (typeof transportWorker !== 'string' || transportWorker === '')
  ) {
    throw new InvalidArgumentError(
      'transportWorker',
      transportWorker,
      'the path of the @aiomisc/log/transport file',
    );
  }
  if ((format === 'rich' || format === 'rich_tb') && (buffered || syslog)) checkPinoPretty();
  return {
    level,
    format,
    dateFormat,
    buffered,
    bufferSize,
    flushInterval,
    handlers,
    destination,
    syslog,
    color,
    drainTimeout,
    transportWorker,
  };
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

function formatSink(resolved: Resolved): Sink {
  const lineFormat = lineFormatOf(resolved);
  if (resolved.buffered || resolved.syslog) {
    // syslog always goes through the worker: the network is never written from the hot path.
    return transportSink(
      {
        lineFormat,
        destination: resolved.destination,
        syslog: resolved.syslog,
        bufferSize: resolved.buffered ? resolved.bufferSize : 1,
        flushInterval: resolved.buffered ? resolved.flushInterval : 0,
      },
      resolved,
    );
  }
  const { destination } = resolved;
  let writer: SyncWriter;
  try {
    writer = new SyncWriter(destination, resolved.drainTimeout);
  } catch (error) {
    throw new InvalidArgumentError(
      'destination',
      destination,
      `a file that can be opened for appending (${describeError(error)})`,
    );
  }
  const close = (): void => writer.close();
  const flush = (): Promise<void> => Promise.resolve();
  if (lineFormat === null) return { stream: writer, level: 0, safe: true, flush, close };
  const render = createLineFormatter(lineFormat);
  const stream: DestinationStream = {
    write(line: string): void {
      let text: string;
      try {
        text = render(JSON.parse(line) as LogRecord);
      } catch {
        text = line;
      }
      writer.write(text);
    },
  };
  return { stream, level: 0, safe: true, flush, close };
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
      getLogger('unhandled').fatal(
        { err: error, origin },
        `Unhandled exception: ${error?.message ?? String(error)}`,
      );
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
    let sinks: Sink[];
    try {
      sinks = resolved.format === 'disabled' ? extra : [formatSink(resolved), ...extra];
    } catch (error) {
      for (const sink of extra) sink.close();
      throw error;
    }
    const previous = state.output.sinks;
    state.output.sinks = sinks;
    state.sinkKey = key;
    state.handlers = resolved.handlers;
    for (const sink of previous) sink.close();
  }
  const { output } = state;
  // A user handler is always called through the fan-out, which catches what it throws.
  output.fanOut =
    output.sinks.length > 1 || output.sinks.some((sink) => sink.level > levelValue || !sink.safe);
  output.single = !output.fanOut && output.sinks.length === 1 ? output.sinks[0]!.stream : undefined;
  (output as unknown as Record<symbol, boolean>)[needsMetadata] = output.fanOut;
  state.timestamp =
    resolved.format === 'json' && resolved.dateFormat !== null
      ? (
          (dateFormat: string) => () =>
            `,"time":${JSON.stringify(strftime(dateFormat, Date.now()))}`
        )(resolved.dateFormat)
      : epochTime;
  // Child loggers inherit the time function from the root through their prototype, so setting
  // it here reaches every logger without a wrapper call per record.
  (root as unknown as Record<symbol, () => string>)[pino.symbols.timeSym] = state.timestamp;
  // Likewise the stream: with one output and no per-handler level, pino writes straight into it
  // (sonic-boom or the transport's thread-stream), exactly as raw pino does.
  (root as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym] =
    output.single ?? output;
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
  // Every sink's flush settles and never rejects: failures are reported on stderr.
  await Promise.all(state.output.sinks.map((sink) => sink.flush()));
}
