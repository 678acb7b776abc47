import { getStatistics, InvalidArgumentError } from '@aiomisc/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { basicConfig, flush, getLogger, wrapLoggingHandler } from '../src/index';

describe('wrapLoggingHandler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands records over in order after flushInterval', async () => {
    vi.useFakeTimers();
    const seen: string[] = [];
    const handler = wrapLoggingHandler(
      { write: (line: string) => seen.push(line) },
      { flushInterval: 100, statisticName: 'wrap-a' },
    );
    handler.write('a\n');
    handler.write('b\n');
    await vi.advanceTimersByTimeAsync(99);
    expect(seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual(['a\n', 'b\n']);
    const metrics = Object.fromEntries(
      getStatistics('BufferedHandlerStatistic')
        .filter((s) => s.name === 'wrap-a')
        .map((s) => [s.metric, s.value]),
    );
    expect(metrics).toEqual({ records: 2, errors: 0, flushes: 1 });
    handler.close();
  });

  it('hands records over once bufferSize are waiting, and counts handler errors', () => {
    vi.useFakeTimers();
    const seen: string[] = [];
    const handler = wrapLoggingHandler(
      {
        write: (line: string) => {
          if (line === 'bad') throw new Error('handler failed');
          seen.push(line);
        },
      },
      { bufferSize: 3, flushInterval: 60_000 },
    );
    handler.write('1');
    handler.write('bad');
    expect(seen).toEqual([]);
    handler.write('3');
    expect(seen).toEqual(['1', '3']);
    expect(handler.statistic.errors).toBe(1);
    handler.close();
    handler.write('after close');
    expect(seen).toEqual(['1', '3', 'after close']);
  });

  it('rejects bad input', () => {
    expect(() => wrapLoggingHandler({} as never)).toThrow(
      expect.objectContaining({ argument: 'handler' }) as Error,
    );
    let error: unknown;
    try {
      wrapLoggingHandler({ write: () => undefined }, { bufferSize: 0 });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
  });
});

describe('wrapLoggingHandler handlers given to basicConfig', () => {
  afterEach(() => {
    basicConfig({ logFormat: 'disabled', buffered: false });
  });

  it('flush() delivers the records held by the wrapped handler (unbuffered mode)', async () => {
    const seen: string[] = [];
    const handler = wrapLoggingHandler(
      { write: (line: string) => seen.push(line) },
      { flushInterval: 600_000 },
    );
    basicConfig({ logFormat: 'disabled', buffered: false, handlers: [handler] });
    getLogger('wrapped').info('one');
    getLogger('wrapped').info('two');
    expect(seen).toEqual([]);
    await flush();
    expect(seen.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['one', 'two']);
    handler.close();
  });

  it('is wrapped once in buffered mode: its own flush() hands every record over', async () => {
    const seen: string[] = [];
    const handler = wrapLoggingHandler(
      { write: (line: string) => seen.push(line) },
      { flushInterval: 600_000 },
    );
    basicConfig({
      logFormat: 'disabled',
      buffered: true,
      flushInterval: 600_000,
      handlers: [handler],
    });
    getLogger('wrapped').info('one');
    getLogger('wrapped').info('two');
    handler.flush();
    expect(seen).toHaveLength(2);
    expect(handler.statistic.records).toBe(2);
    getLogger('wrapped').info('three');
    await flush();
    expect(seen).toHaveLength(3);
    handler.close();
  });

  it('a flushInterval of 2^31 ms or more is honoured, not cut to 1 ms', async () => {
    vi.useFakeTimers();
    const seen: string[] = [];
    const handler = wrapLoggingHandler(
      { write: (line: string) => seen.push(line) },
      { flushInterval: 2 ** 31 },
    );
    handler.write('a\n');
    await vi.advanceTimersByTimeAsync(10);
    expect(seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(seen).toEqual(['a\n']);
    handler.close();
  });

  it('a flushInterval of 0 hands each record over at once', () => {
    const seen: string[] = [];
    const handler = wrapLoggingHandler(
      { write: (line: string) => seen.push(line) },
      { flushInterval: 0 },
    );
    handler.write('a\n');
    expect(seen).toEqual(['a\n']);
    handler.close();
  });
});
