import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { InvalidStateError } from '@aiomisc/core';
import type PinoPretty from 'pino-pretty';
import { rfc3339, strftime } from './date-format';
import { levelLabel, syslogSeverity } from './severity';

/** A pino record as parsed from its JSON line. @internal */
export interface LogRecord {
  level: number;
  time?: number | string;
  pid?: number;
  hostname?: string;
  name?: string;
  msg?: string;
  err?: { type?: string; message?: string; stack?: string };
  [key: string]: unknown;
}

/** The formats that turn a record into text (json passes pino's line through). @internal */
export type TextFormat = 'stream' | 'color' | 'plain' | 'journald' | 'rich' | 'rich_tb' | 'syslog';

/** What a line formatter needs; plain data so that it crosses into the transport worker. @internal */
export interface LineFormatOptions {
  format: TextFormat;
  /** strftime format; null: the format's own default. */
  dateFormat: string | null;
  colorize: boolean;
  /** syslog only. */
  facility?: number;
  appName?: string;
  hostname?: string;
}

/** The seed's per-format date formats (`DateFormat`). @internal */
export const defaultDateFormats: Partial<Record<TextFormat, string>> = {
  stream: '[%Y-%m-%d %H:%M:%S]',
  color: '%Y-%m-%d %H:%M:%S',
  rich: '[%X]',
  rich_tb: '[%X]',
};

const reserved = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'err']);
const ansi = {
  reset: '\u001b[0m',
  dim: '\u001b[2m',
  bold: '\u001b[1m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  blue: '\u001b[34m',
  magenta: '\u001b[35m',
  cyan: '\u001b[36m',
  boldRed: '\u001b[1;31m',
};

function levelColour(level: number): string {
  if (level >= 60) return ansi.boldRed;
  if (level >= 50) return ansi.red;
  if (level >= 40) return ansi.yellow;
  if (level >= 30) return ansi.green;
  if (level >= 20) return ansi.blue;
  return ansi.dim;
}

function renderValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

function extras(record: LogRecord): string {
  let out = '';
  for (const key in record) {
    if (!reserved.has(key)) out += ` ${key}=${renderValue(record[key])}`;
  }
  return out;
}

function errorText(record: LogRecord): string {
  const err = record.err;
  if (!err || typeof err !== 'object') return '';
  return err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`;
}

function timeOf(record: LogRecord): number {
  return typeof record.time === 'number' ? record.time : Date.now();
}

/** strftime that reuses its last result within the same second (when no sub-second directive is used). */
function cachedStrftime(format: string): (time: number) => string {
  if (/%[fs]/.test(format)) return (time) => strftime(format, time);
  let second = NaN;
  let text = '';
  return (time) => {
    const current = Math.floor(time / 1000);
    if (current !== second) {
      second = current;
      text = strftime(format, time);
    }
    return text;
  };
}

const sourceCache = new Map<string, string[] | null>();

function sourceLines(file: string): string[] | null {
  let lines = sourceCache.get(file);
  if (lines === undefined) {
    try {
      lines = readFileSync(file, 'utf8').split('\n');
    } catch {
      lines = null;
    }
    sourceCache.set(file, lines);
  }
  return lines;
}

/**
 * The code around the first stack frame in the application's own files (not node internals,
 * not node_modules), with the failing line marked: the "rich traceback" of `rich_tb`.
 * @internal
 */
export function codeFrame(stack: string, colorize: boolean, context = 3): string {
  for (const line of stack.split('\n').slice(1)) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!match) continue;
    const file = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
    if (file.includes('/node_modules/')) continue;
    const lines = sourceLines(file);
    const lineNumber = Number(match[2]);
    const column = Number(match[3]);
    if (!lines || lineNumber > lines.length) continue;
    const first = Math.max(1, lineNumber - context);
    const last = Math.min(lines.length, lineNumber + context);
    const width = String(last).length;
    const out = [
      `${colorize ? ansi.cyan : ''}${file}:${lineNumber}:${column}${colorize ? ansi.reset : ''}`,
    ];
    for (let n = first; n <= last; n++) {
      const marker = n === lineNumber ? '❱' : ' ';
      const text = `${marker} ${String(n).padStart(width)} │ ${lines[n - 1]}`;
      out.push(n === lineNumber && colorize ? `${ansi.boldRed}${text}${ansi.reset}` : text);
      if (n === lineNumber) out.push(`${' '.repeat(width + 5 + column - 1)}^`);
    }
    return out.join('\n');
  }
  return '';
}

/**
 * Makes the function that renders a parsed pino record as one text record (with a trailing
 * newline) in one of the human, journald or syslog formats. Used on the main thread in
 * unbuffered mode and inside the transport worker in buffered mode.
 * @internal
 */
export function createLineFormatter(options: LineFormatOptions): (record: LogRecord) => string {
  const { format, colorize } = options;
  const dateFormat = options.dateFormat ?? defaultDateFormats[format] ?? null;
  const stamp = cachedStrftime(dateFormat ?? '');
  const date = (record: LogRecord): string => (dateFormat ? `${stamp(timeOf(record))} ` : '');
  const withError = (text: string, record: LogRecord): string => {
    const error = errorText(record);
    return error ? `${text}\n${error}` : text;
  };
  switch (format) {
    case 'plain':
      return (record) => `${withError(record.msg ?? '', record)}\n`;
    case 'stream':
      return (record) =>
        `${withError(`${date(record)}${levelLabel(record.level)}:${record.name ?? 'root'}:${record.msg ?? ''}${extras(record)}`, record)}\n`;
    case 'color':
      return (record) => {
        if (!colorize) {
          return `${withError(`${date(record)}${levelLabel(record.level)}:${record.name ?? 'root'}: ${record.msg ?? ''}${extras(record)}`, record)}\n`;
        }
        const time = dateFormat ? `${ansi.dim}${stamp(timeOf(record))}${ansi.reset} ` : '';
        const level = `${levelColour(record.level)}${levelLabel(record.level)}${ansi.reset}`;
        const name = `${ansi.magenta}${record.name ?? 'root'}${ansi.reset}`;
        const error = errorText(record);
        return `${time}${level}:${name}: ${record.msg ?? ''}${extras(record)}${error ? `\n${ansi.red}${error}${ansi.reset}` : ''}\n`;
      };
    case 'journald':
      // sd-daemon(3): journald reads a "<N>" syslog priority at the start of each line of a
      // service's stdout/stderr; every line of a multi-line record needs its own prefix.
      return (record) => {
        const prefix = `<${syslogSeverity(record.level)}>`;
        const text = withError(
          `${record.name ? `${record.name}: ` : ''}${record.msg ?? ''}${extras(record)}`,
          record,
        );
        return `${prefix}${text.replaceAll('\n', `\n${prefix}`)}\n`;
      };
    case 'syslog':
      return createSyslogFormatter(options);
    case 'rich':
    case 'rich_tb':
      return createRichFormatter(options, dateFormat);
  }
}

const nilOr = (value: string | undefined, max: number): string => {
  // RFC 5424 header fields are PRINTUSASCII (33..126) without spaces.
  const cleaned = (value ?? '').replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
};

function createSyslogFormatter(options: LineFormatOptions): (record: LogRecord) => string {
  const facility = options.facility ?? 1;
  const hostname = nilOr(options.hostname, 255);
  const appName = nilOr(options.appName, 48);
  return (record) => {
    const priority = facility * 8 + syslogSeverity(record.level);
    const message = errorText(record)
      ? `${record.msg ?? ''}${extras(record)}\n${errorText(record)}`
      : `${record.msg ?? ''}${extras(record)}`;
    return `<${priority}>1 ${rfc3339(timeOf(record))} ${hostname} ${appName} ${record.pid ?? process.pid} ${nilOr(record.name, 32)} - ${message}\n`;
  };
}

/** Raised without pino-pretty; the cause (MODULE_NOT_FOUND) is of no use to the reader. */
const missingPinoPretty = (): InvalidStateError =>
  new InvalidStateError(
    'the rich and rich_tb log formats need pino-pretty, an optional peer dependency of @aiomisc/log that is not installed: ' +
      'run `npm install pino-pretty` (or pnpm add / yarn add), or choose another logFormat',
  );

/**
 * Throws the error that names the package to install when pino-pretty cannot be resolved
 * (checked on the main thread before a buffered worker is started with a rich format).
 * @internal
 */
export function checkPinoPretty(): void {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
  } catch {
    throw missingPinoPretty();
  }
}

function loadPinoPretty(): typeof PinoPretty {
  try {
    return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw missingPinoPretty();
    throw error;
  }
}

function createRichFormatter(
  options: LineFormatOptions,
  dateFormat: string | null,
): (record: LogRecord) => string {
  const stamp = cachedStrftime(dateFormat ?? '');
  // Loaded on first use, and only here: pino-pretty is optional, and json and the other formats
  // never pay for its start-up.
  const pinoPretty = loadPinoPretty();
  const pretty = pinoPretty.prettyFactory({
    colorize: options.colorize,
    translateTime: false,
    ignore: 'pid,hostname',
    customLevels: { NOTSET: 10, DEBUG: 20, INFO: 30, WARNING: 40, ERROR: 50, CRITICAL: 60 },
    customColors: {
      NOTSET: 'gray',
      DEBUG: 'blue',
      INFO: 'green',
      WARNING: 'yellow',
      ERROR: 'red',
      CRITICAL: 'bgRed',
    },
    useOnlyCustomProps: false,
    customPrettifiers: {
      time: (value) => (dateFormat ? stamp(Number(value)) : JSON.stringify(value)),
    },
  });
  const tracebacks = options.format === 'rich_tb';
  return (record) => {
    let text = pretty(record);
    if (tracebacks && record.err?.stack) {
      const frame = codeFrame(record.err.stack, options.colorize);
      if (frame)
        text += `${frame
          .split('\n')
          .map((line) => `    ${line}`)
          .join('\n')}\n`;
    }
    return text;
  };
}
