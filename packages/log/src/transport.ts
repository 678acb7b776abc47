/**
 * The transport worker of buffered mode: pino's thread-stream runs this module in a worker
 * thread and feeds it pino's JSON lines. It formats them (off the main thread), keeps up to
 * `bufferSize` records or `flushInterval` ms, then writes them in one go. `flush()` (sent by
 * the main thread's `logger.flush()`) and `end()` (pino's exit hook, reconfiguration) write
 * everything out before they report back, which is what makes "no record lost" hold.
 */
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, write } from 'node:fs';
import { dirname } from 'node:path';
import { createLineFormatter, type LineFormatOptions, type LogRecord } from './line-format';
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
}

interface Sink {
  write(text: string): void;
  drained(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Writes batches to a file descriptor with async fs.write (one in flight, the rest coalesced),
 * so that the worker keeps reading while the kernel writes. Retries EAGAIN, which a
 * non-blocking pipe on stdout/stderr can return.
 */
class FdWriter implements Sink {
  readonly #fd: number;
  readonly #owned: boolean;
  #queue: string[] = [];
  #writing = false;
  #idle: (() => void)[] = [];

  constructor(destination: number | string) {
    if (typeof destination === 'number') {
      this.#fd = destination;
      this.#owned = false;
    } else {
      mkdirSync(dirname(destination), { recursive: true });
      this.#fd = openSync(destination, 'a');
      this.#owned = true;
    }
  }

  write(text: string): void {
    this.#queue.push(text);
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
    this.#queue = [];
    this.#writeFrom(data, 0);
  }

  #writeFrom(data: Buffer, offset: number): void {
    write(this.#fd, data, offset, data.length - offset, null, (error, written) => {
      if (error) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.#writeFrom(data, offset), 1);
          return;
        }
        // nowhere left to report a failed log write; drop the batch, keep going
        this.#next();
        return;
      }
      if (offset + written < data.length) this.#writeFrom(data, offset + written);
      else this.#next();
    });
  }

  drained(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.drained();
    if (this.#owned) closeSync(this.#fd);
  }
}

function syslogSink(endpoint: SyslogEndpoint): Sink {
  const sender = new SyslogSender(endpoint);
  return {
    write: (text) => sender.send(text),
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
  #partial = '';
  #pending: string[] = [];
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(options: TransportOptions) {
    super();
    this.#options = options;
    this.#format = options.lineFormat ? createLineFormatter(options.lineFormat) : null;
    this.#sink = options.syslog ? syslogSink(options.syslog) : new FdWriter(options.destination);
    this.#perMessage = options.syslog !== null;
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
    if (this.#format === null) {
      this.#pending.push(complete);
      for (let index = complete.indexOf('\n'); index !== -1; index = complete.indexOf('\n', index + 1)) this.#count++;
    } else {
      let start = 0;
      for (let index = complete.indexOf('\n'); index !== -1; index = complete.indexOf('\n', start)) {
        this.#pending.push(this.#render(complete.slice(start, index)));
        this.#count++;
        start = index + 1;
      }
    }
    if (this.#count >= this.#options.bufferSize || this.#options.flushInterval === 0) this.#writeOut();
    else this.#timer ??= setTimeout(() => this.#writeOut(), this.#options.flushInterval);
    return true;
  }

  #render(line: string): string {
    try {
      return this.#format!(JSON.parse(line) as LogRecord);
    } catch {
      return `${line}\n`;
    }
  }

  #writeOut(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#count === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    this.#count = 0;
    if (this.#perMessage) for (const text of pending) this.#sink.write(text);
    else this.#sink.write(pending.length === 1 ? pending[0]! : pending.join(''));
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
      this.#pending.push(this.#format ? this.#render(this.#partial) : `${this.#partial}\n`);
      this.#count++;
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
  return new BufferedDestination(options);
}
