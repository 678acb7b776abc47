import {
  expectNumber,
  InvalidArgumentError,
  setLongTimeout,
  Statistic,
  type LongTimeout,
} from '@aiomisc/core';
import type { DestinationStream } from 'pino';

/** Counters of a {@link wrapLoggingHandler} buffer (the seed's ThreadedHandler statistics). */
export class BufferedHandlerStatistic extends Statistic {
  readonly kind = 'BufferedHandlerStatistic';
  /** Records accepted. */
  records = 0;
  /** Records the wrapped handler threw on (they are dropped, as the seed does). */
  errors = 0;
  /** Times the buffer was written out. */
  flushes = 0;
}

/** Options of {@link wrapLoggingHandler}; durations in milliseconds. */
export interface WrapLoggingHandlerOptions {
  /** Records kept before they are written out. @default 1024 */
  bufferSize?: number;
  /** Longest a record waits. @default 200 */
  flushInterval?: number;
  /** Name of the {@link BufferedHandlerStatistic}. @default null */
  statisticName?: string | null;
}

/** A handler whose records are kept in memory and written later, in order. */
export interface BufferedLogHandler extends DestinationStream {
  /** Writes every record kept so far to the wrapped handler, synchronously. */
  flush(): void;
  /** Flushes and stops the timer; later records are written at once. */
  close(): void;
  readonly statistic: BufferedHandlerStatistic;
}

const live = new Set<BufferedLogHandler>();
const made = new WeakSet<object>();
let exitHooked = false;

/** True for a handler made by {@link wrapLoggingHandler} (basicConfig does not wrap it again). @internal */
export function isBufferedLogHandler(stream: unknown): stream is BufferedLogHandler {
  return typeof stream === 'object' && stream !== null && made.has(stream);
}

/**
 * The seed's `wrap_logging_handler`: keeps the records meant for `handler` (any pino destination
 * stream) in memory and hands them over one by one when `bufferSize` are waiting or
 * `flushInterval` has passed, and at process exit, so a slow handler costs the hot path
 * nothing. A JavaScript stream cannot move to another thread, so the writing happens on the
 * main thread from a timer (unref'd: it never keeps the process alive). `basicConfig` wraps the
 * stream handlers this way in buffered mode; pino transport targets already run in a worker.
 *
 * @example
 * ```ts
 * const handler = wrapLoggingHandler({ write: (line) => socket.send(line) }, { flushInterval: 500 });
 * basicConfig({ logFormat: 'json', handlers: [handler] });
 * ```
 */
export function wrapLoggingHandler(
  handler: DestinationStream,
  options: WrapLoggingHandlerOptions = {},
): BufferedLogHandler {
  if (typeof handler !== 'object' || handler === null || typeof handler.write !== 'function') {
    throw new InvalidArgumentError('handler', handler, 'a stream with write()');
  }
  const bufferSize = expectNumber('bufferSize', options.bufferSize ?? 1024, {
    min: 1,
    integer: true,
  });
  const flushInterval = expectNumber('flushInterval', options.flushInterval ?? 200, { min: 0 });
  const statistic = new BufferedHandlerStatistic(options.statisticName);
  let pending: string[] = [];
  let timer: LongTimeout | undefined;
  let closed = false;
  const inner = handler as DestinationStream & { flushSync?: () => void };

  const wrapped: BufferedLogHandler = {
    statistic,
    write(line: string): void {
      statistic.records++;
      pending.push(line);
      if (closed || pending.length >= bufferSize || flushInterval === 0) wrapped.flush();
      else if (!timer) {
        timer = setLongTimeout(() => wrapped.flush(), flushInterval).unref();
      }
    },
    flush(): void {
      timer?.clear();
      timer = undefined;
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      statistic.flushes++;
      for (const line of batch) {
        try {
          handler.write(line);
        } catch {
          statistic.errors++;
        }
      }
      // a wrapped sonic-boom (or anything with flushSync) gets the records to its destination too
      try {
        inner.flushSync?.();
      } catch {
        // e.g. a sonic-boom still opening its file: it writes the records once it is open
      }
    },
    close(): void {
      wrapped.flush();
      closed = true;
      live.delete(wrapped);
    },
  };
  live.add(wrapped);
  made.add(wrapped);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const handlerInUse of live) handlerInUse.flush();
    });
  }
  return wrapped;
}
