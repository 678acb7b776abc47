import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  configureConsoleLogger,
  getLogger,
  getLoggerFactory,
  setLoggerFactory,
} from '../src/index';

afterEach(() => {
  configureConsoleLogger({ format: 'plain', level: 'info' });
});

describe('the built-in console logger', () => {
  it('writes a JSON line even when a field cannot be serialised', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    configureConsoleLogger({ format: 'json' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => getLogger('test.json').info({ circular, big: 1n }, 'still logged')).not.toThrow();
    const line = String(write.mock.calls.at(-1)?.[0]);
    expect(JSON.parse(line)).toMatchObject({
      level: 'info',
      name: 'test.json',
      msg: 'still logged',
    });
  });

  it('never throws when writing to stderr throws', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => {
      throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    });
    const log = getLogger('test.broken');
    expect(() => log.error('first')).not.toThrow();
    expect(() => log.error('second')).not.toThrow();
    // after the first failure the logger stops writing to stderr
    expect(write).toHaveBeenCalledTimes(1);
  });
});

describe('getLoggerFactory', () => {
  it('returns the installed factory, so a wrapper can write through it', () => {
    const lines: string[] = [];
    const base = (name: string) => ({
      debug: () => {},
      info: (first: unknown) => lines.push(`${name}: ${String(first)}`),
      warn: () => {},
      error: () => {},
    });
    const restoreBase = setLoggerFactory(base);
    try {
      expect(getLoggerFactory()).toBe(base);
      const previous = getLoggerFactory();
      const restore = setLoggerFactory((name) => ({
        ...previous(name),
        info: (first: never) => previous(name).info(`[tee] ${String(first)}`),
      }));
      getLogger('app').info('hello');
      restore();
      expect(getLoggerFactory()).toBe(base);
      expect(lines).toEqual(['app: [tee] hello']);
    } finally {
      restoreBase();
    }
    expect(typeof getLoggerFactory()('x').info).toBe('function');
  });
});
