// The sinks of the `handlers` option: user streams (wrapped in buffered mode, isolated so that a
// throwing one costs only its own copy of a record) and pino transport targets.
import { InvalidArgumentError, type LogLevelName } from '@aiomisc/core';
import pino, { type DestinationStream } from 'pino';
import type { LogHandler } from './basic-config';
import { LogLevel } from './levels';
import { describeError, reportProblem } from './report';
import type { Sink, ThreadStreamLike } from './sink';
import { reportWorkerErrors } from './transport-sink';
import { isBufferedLogHandler, wrapLoggingHandler } from './wrap-logging-handler';

/**
 * A user handler whose `write` throws loses that record only: the logging call does not throw
 * and the handlers after it still get the record. Reported once per handler on stderr.
 */
export function writeToHandler(sink: Sink, line: string): void {
  try {
    sink.stream.write(line);
  } catch (error) {
    if (sink.reported) return;
    sink.reported = true;
    reportProblem(
      `a log handler threw (${describeError(error)}); its records are lost, the other outputs still get them (reported once per handler)`,
    );
  }
}

type Flushable = DestinationStream & {
  flushSync?: () => void;
  flush?: ((callback?: (error?: Error | null) => void) => unknown) | (() => unknown);
};

/**
 * Flushes a user handler however it can be: `flushSync()` (sonic-boom), else `flush()` (a
 * {@link wrapLoggingHandler} handler, a promise-returning flush) or `flush(callback)` (pino's
 * destinations). A handler that fails to flush is reported once, never thrown.
 */
async function flushHandler(sink: Sink, stream: Flushable): Promise<void> {
  try {
    if (typeof stream.flushSync === 'function') {
      stream.flushSync();
      return;
    }
    const flush = stream.flush;
    if (typeof flush !== 'function') return;
    if (flush.length === 0) {
      await flush.call(stream);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      (flush as (callback: (error?: Error | null) => void) => unknown).call(stream, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  } catch (error) {
    if (sink.reported) return;
    sink.reported = true;
    reportProblem(
      `a log handler failed to flush (${describeError(error)}) (reported once per handler)`,
    );
  }
}

export function handlerSinks(
  handlers: readonly LogHandler[],
  buffering: { bufferSize: number; flushInterval: number } | null,
): Sink[] {
  const sinks: Sink[] = [];
  const targets: { target: string; options: Record<string, unknown>; level: string }[] = [];
  let targetLevel = Infinity;
  for (const handler of handlers) {
    const level =
      pino.levels.values[LogLevel.toPino((handler as { level?: LogLevelName }).level ?? 'notset')]!;
    if ('target' in handler) {
      targets.push({
        target: handler.target,
        options: handler.options ?? {},
        level: LogLevel.toPino(handler.level ?? 'notset'),
      });
      targetLevel = Math.min(targetLevel, level);
      continue;
    }
    const stream = 'stream' in handler ? handler.stream : handler;
    // The seed buffers each user handler in buffered mode (wrap_logging_handler); one the user
    // already wrapped is used as it is, not wrapped twice.
    const wrapped =
      buffering && !isBufferedLogHandler(stream)
        ? wrapLoggingHandler(stream, buffering)
        : undefined;
    const sink: Sink = {
      stream: wrapped ?? stream,
      level,
      safe: wrapped !== undefined,
      flush: () => flushHandler(sink, wrapped ?? stream),
      close: () => wrapped?.close(),
    };
    sinks.push(sink);
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
      safe: true,
      flush: () =>
        new Promise<void>((resolve) => {
          if (stream.destroyed || stream.closed) {
            resolve();
            return;
          }
          stream.once('close', resolve);
          stream.flush(() => {
            stream.off('close', resolve);
            resolve();
          });
        }),
      close: () => {
        if (!stream.closed) stream.end();
      },
    });
  }
  return sinks;
}
