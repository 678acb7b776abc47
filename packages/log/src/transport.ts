/**
 * The transport worker of buffered mode: pino's thread-stream runs this module in a worker
 * thread and feeds it pino's JSON lines. It formats them (off the main thread), keeps up to
 * `bufferSize` records or `flushInterval` ms, then writes them in one go. `flush()` (sent by
 * the main thread's `flush()`), a drain marker (written by the main thread's exit hook, which
 * then waits on shared memory, see drain-control) and `end()` write everything out before they
 * report back, which is what makes "no record lost" hold.
 */
import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, mkdirSync, openSync, write } from 'node:fs';
import { dirname } from 'node:path';
import { setLongTimeout, type LongTimeout } from '@aiomisc/core';
import { Cell, createControl, DRAIN_MARKER } from './drain-control';
import { createLineFormatter, type LineFormatOptions, type LogRecord } from './line-format';
import { describeError, reportProblem } from './report';
import { SyslogSender, type SyslogEndpoint } from './syslog-sender';

/** Options the main thread passes to the worker. @internal */
export interface TransportOptions {
  /** null: pass pino's JSON lines through. */
  lineFormat: LineFormatOptions | null;
  /** File descriptor or file path (not used by syslog). */
  destination: number | string;
  syslog: SyslogEndpoint | null;
  bufferSize: number;
  flushInterval: number;
  /** Shared with the main thread (see drain-control); made locally when absent (tests). */
  control?: Int32Array;
}

interface Sink {
  /** Takes `text`, which holds `lines` lines. */
  write(text: string, lines: number): void;
  drained(): Promise<void>;
  close(): Promise<void>;
}

const pipeChunk = 64 * 1024;

function lineCount(text: string): number {
  let lines = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) lines++;
  return lines;
}
const fileChunk = 1024 * 1024;

/**
 * Writes batches to a file descriptor with async fs.write (one in flight, the rest coalesced),
 * so that the worker keeps reading while the kernel writes. A non-blocking pipe that is full
 * (EAGAIN) is retried every millisecond for as long as it takes; pipes get at most 64 KiB per
 * write so that the main thread sees progress while a slow reader drains them. Any other error
 * (ENOSPC, EPIPE, EIO) drops that batch, is reported once on stderr, and later records are
 * tried again: the Python's "logging error, then go on". A destination that cannot be opened
 * is reported once and its records are dropped.
 */
class FdWriter implements Sink {
  readonly #fd: number;
  readonly #owned: boolean;
  readonly #chunk: number;
  readonly #name: string;
  readonly #control: Int32Array;
  #queue: string[] = [];
  #queuedLines = 0;
  #writing = false;
  #idle: (() => void)[] = [];
  #reported = false;

  constructor(destination: number | string, control: Int32Array) {
    this.#control = control;
    this.#name = typeof destination === 'number' ? `file descriptor ${destination}` : destination;
    let fd = -1;
    let owned = false;
    try {
      if (typeof destination === 'number') fd = destination;
      else {
        mkdirSync(dirname(destination), { recursive: true });
        fd = openSync(destination, 'a');
        owned = true;
      }
    } catch (error) {
      this.#report(
        `cannot open the log destination ${this.#name} (${describeError(error)}); its records are dropped`,
      );
    }
    this.#fd = fd;
    this.#owned = owned;
    let chunk = fileChunk;
    try {
      if (fd !== -1) {
        const stat = fstatSync(fd);
        if (stat.isFIFO() || stat.isSocket()) chunk = pipeChunk;
      }
    } catch {
      // an fd that cannot be stat'ed fails on write too, and is reported there
    }
    this.#chunk = chunk;
  }

  #report(text: string): void {
    if (this.#reported) return;
    this.#reported = true;
    reportProblem(text);
  }

  #drop(lines: number): void {
    Atomics.add(this.#control, Cell.dropped, lines);
    Atomics.sub(this.#control, Cell.pending, lines);
  }

  write(text: string, lines: number): void {
    if (this.#fd === -1) {
      this.#drop(lines);
      return;
    }
    this.#queue.push(text);
    this.#queuedLines += lines;
    if (!this.#writing) this.#next();
  }

  #next(): void {
    if (this.#queue.length === 0) {
      this.#writing = false;
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#writing = true;
    const data = Buffer.from(this.#queue.length === 1 ? this.#queue[0]! : this.#queue.join(''));
    const lines = this.#queuedLines;
    this.#queue = [];
    this.#queuedLines = 0;
    this.#writeFrom(data, 0, lines);
  }

  #writeFrom(data: Buffer, offset: number, lines: number): void {
    write(
      this.#fd,
      data,
      offset,
      Math.min(this.#chunk, data.length - offset),
      null,
      (error, written) => {
        if (error) {
          if (error.code === 'EAGAIN') {
            setTimeout(() => this.#writeFrom(data, offset, lines), 1);
            return;
          }
          this.#report(
            `writing log records to ${this.#name} failed (${describeError(error)}); those records are lost, later ones are still written (reported once)`,
          );
          this.#drop(lines);
          this.#next();
          return;
        }
        Atomics.add(this.#control, Cell.progress, 1);
        // pending counts lines, so that a write cut short by the exit bound is reported exactly
        const end = offset + written;
        let newlines = 0;
        for (
          let index = data.indexOf(10, offset);
          index !== -1 && index < end;
          index = data.indexOf(10, index + 1)
        )
          newlines++;
        const taken = Math.min(newlines, lines);
        Atomics.sub(this.#control, Cell.pending, taken);
        if (end < data.length) this.#writeFrom(data, end, lines - taken);
        else {
          Atomics.sub(this.#control, Cell.pending, lines - taken);
          this.#next();
        }
      },
    );
  }

  drained(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.drained();
    if (this.#owned) {
      try {
        closeSync(this.#fd);
      } catch {
        // already reported by a failed write, if it matters
      }
    }
  }
}

function syslogSink(endpoint: SyslogEndpoint, control: Int32Array): Sink {
  const sender = new SyslogSender(endpoint);
  return {
    write: (text, lines) => {
      sender.send(text);
      Atomics.add(control, Cell.progress, 1);
      Atomics.sub(control, Cell.pending, lines);
    },
    drained: () => sender.drained(),
    close: () => sender.close(),
  };
}

/** A destination stream in the worker (thread-stream calls write/flush/end and listens for close). */
export class BufferedDestination extends EventEmitter {
  readonly #options: TransportOptions;
  readonly #format: ((record: LogRecord) => string) | null;
  readonly #sink: Sink;
  readonly #perMessage: boolean;
  readonly #control: Int32Array;
  #partial = '';
  #pending: string[] = [];
  #count = 0;
  /** Lines of the records in #pending (a record of a human format can span several). */
  #lines = 0;
  #timer: LongTimeout | undefined;
  #ended = false;

  constructor(options: TransportOptions) {
    super();
    this.#options = options;
    this.#control = options.control ?? createControl();
    this.#format = options.lineFormat ? createLineFormatter(options.lineFormat) : null;
    this.#sink = options.syslog
      ? syslogSink(options.syslog, this.#control)
      : new FdWriter(options.destination, this.#control);
    this.#perMessage = options.syslog !== null;
    Atomics.store(this.#control, Cell.started, 1);
    Atomics.notify(this.#control, Cell.drained);
  }

  /** The counters shared with the main thread (see drain-control). */
  get control(): Int32Array {
    return this.#control;
  }

  write(chunk: string): boolean {
    const data = this.#partial + chunk;
    const last = data.lastIndexOf('\n');
    if (last === -1) {
      this.#partial = data;
      return true;
    }
    this.#partial = last === data.length - 1 ? '' : data.slice(last + 1);
    const complete = last === data.length - 1 ? data : data.slice(0, last + 1);
    if (complete.indexOf('\u0000') === -1) this.#take(complete);
    else {
      // The main thread's drain marker (a line of its own): write everything before it, then
      // tell the main thread once the destination has taken it.
      const parts = complete.split(DRAIN_MARKER);
      for (let index = 0; index < parts.length; index++) {
        if (parts[index] !== '') this.#take(parts[index]!);
        if (index < parts.length - 1) this.#drainRequested();
      }
    }
    return true;
  }

  /** Queues complete lines (each ends with a newline). */
  #take(complete: string): void {
    const before = this.#count;
    const linesBefore = this.#lines;
    if (this.#format === null) {
      this.#pending.push(complete);
      for (
        let index = complete.indexOf('\n');
        index !== -1;
        index = complete.indexOf('\n', index + 1)
      )
        this.#count++;
    } else {
      let start = 0;
      for (
        let index = complete.indexOf('\n');
        index !== -1;
        index = complete.indexOf('\n', start)
      ) {
        const text = this.#render(complete.slice(start, index));
        this.#pending.push(text);
        this.#count++;
        this.#lines += lineCount(text);
        start = index + 1;
      }
    }
    Atomics.add(
      this.#control,
      Cell.pending,
      this.#format === null ? this.#count - before : this.#lines - linesBefore,
    );
    if (this.#count >= this.#options.bufferSize || this.#options.flushInterval === 0)
      this.#writeOut();
    else this.#timer ??= setLongTimeout(() => this.#writeOut(), this.#options.flushInterval);
  }

  #drainRequested(): void {
    this.#writeOut();
    void this.#sink.drained().then(() => {
      Atomics.add(this.#control, Cell.drained, 1);
      Atomics.notify(this.#control, Cell.drained);
    });
  }

  #render(line: string): string {
    try {
      return this.#format!(JSON.parse(line) as LogRecord);
    } catch {
      return `${line}\n`;
    }
  }

  #writeOut(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    if (this.#count === 0) return;
    const pending = this.#pending;
    const lines = this.#format === null ? this.#count : this.#lines;
    this.#pending = [];
    this.#count = 0;
    this.#lines = 0;
    if (this.#perMessage) for (const text of pending) this.#sink.write(text, lineCount(text));
    else this.#sink.write(pending.length === 1 ? pending[0]! : pending.join(''), lines);
  }

  /** Waits until the writes already started have finished, without writing the buffer. */
  settled(): Promise<void> {
    return this.#sink.drained();
  }

  /** Writes every buffered record and waits until the sink has taken it. */
  flush(callback: (error?: Error) => void): void {
    this.#writeOut();
    this.#sink.drained().then(() => callback(), callback);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#partial) {
      const text = this.#format ? this.#render(this.#partial) : `${this.#partial}\n`;
      this.#pending.push(text);
      this.#count++;
      this.#lines += lineCount(text);
      Atomics.add(this.#control, Cell.pending, lineCount(text));
      this.#partial = '';
    }
    this.#writeOut();
    this.#sink.close().then(
      () => this.emit('close'),
      (error: unknown) => {
        this.emit('error', error);
      },
    );
  }
}

/** The thread-stream entry: builds the destination from the options the main thread sent. */
// thread-stream loads a transport through its default export, so this entry needs one.
// eslint-disable-next-line no-restricted-syntax
export default function createTransport(options: TransportOptions): BufferedDestination {
  let destination: BufferedDestination;
  try {
    destination = new BufferedDestination(options);
  } catch (error) {
    reportProblem(
      `the transport worker could not start (${describeError(error)}); records are dropped`,
    );
    if (options.control) {
      Atomics.store(options.control, Cell.dead, 1);
      Atomics.notify(options.control, Cell.drained);
    }
    throw error;
  }
  const { control } = destination;
  // The worker is ending (thread-stream exits it on an error it cannot recover from): the main
  // thread, possibly blocked in its exit hook, must stop waiting for it.
  process.once('exit', () => {
    Atomics.store(control, Cell.dead, 1);
    Atomics.notify(control, Cell.drained);
  });
  return destination;
}
