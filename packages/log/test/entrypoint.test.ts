import { join } from 'node:path';
import { entrypoint, getExtensions, Service } from '@aiomisc/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { basicConfig, flush, getLogger, LOGGING_EXTENSION, registerLogging } from '../src/index';
import { readLines, temporaryDirectory } from './helpers';

const dir = temporaryDirectory();
let serial = 0;
const file = (): string => join(dir, `ep-${serial++}.log`);
let unregister: (() => void) | undefined;

class Quiet extends Service {
  async start(): Promise<void> {}
}

afterEach(() => {
  unregister?.();
  unregister = undefined;
});

afterAll(() => {
  basicConfig({ logFormat: 'disabled', buffered: false });
});

const base = { plugins: false, catchSignals: [] } as const;

describe('registerLogging', () => {
  it('registers the aiomisc.log extension and unregisters it', () => {
    unregister = registerLogging();
    expect(getExtensions().map((extension) => extension.name)).toContain(LOGGING_EXTENSION);
    unregister();
    unregister = undefined;
    expect(getExtensions().map((extension) => extension.name)).not.toContain(LOGGING_EXTENSION);
  });

  it('makes an entrypoint configure logging from its log* options', async () => {
    const path = file();
    unregister = registerLogging({ destination: path });
    const ep = await entrypoint({
      ...base,
      services: [new Quiet()],
      logFormat: 'json',
      logLevel: 'debug',
      logBuffering: false,
    }).start();
    getLogger('app').debug('debug is on');
    await ep.stop();
    const records = readLines(path).map(
      (line) => JSON.parse(line) as { name: string; msg: string; level: number },
    );
    expect(records[0]).toMatchObject({ name: 'app', msg: 'debug is on', level: 20 });
    expect(
      records.some(
        (record) =>
          record.name === 'aiomisc.entrypoint' && record.msg.startsWith('Stopped 1 services'),
      ),
    ).toBe(true);
  });

  it('flushes the buffered worker when the entrypoint stops', async () => {
    const path = file();
    unregister = registerLogging({ destination: path });
    const ep = await entrypoint({
      ...base,
      logFormat: 'plain',
      logBuffering: true,
      logBufferSize: 1_000_000,
      logFlushInterval: 600_000,
    }).start();
    for (let i = 0; i < 1000; i++) getLogger('app').info(`record ${i}`);
    await ep.stop();
    const lines = readLines(path);
    expect(lines).toHaveLength(1000);
    expect(lines.at(-1)).toBe('record 999');
  });

  it('leaves logging alone with AIOMISC_LOG_CONFIG=0', async () => {
    const path = file();
    basicConfig({ destination: path, logFormat: 'plain', buffered: false, level: 'info' });
    unregister = registerLogging({ destination: file() });
    vi.stubEnv('AIOMISC_LOG_CONFIG', '0');
    try {
      const ep = await entrypoint({ ...base, logFormat: 'json' }).start();
      getLogger('app').info('still plain');
      await ep.stop();
    } finally {
      vi.unstubAllEnvs();
    }
    expect(readLines(path)).toEqual(['still plain']);
  });

  it('leaves the user setup alone with logConfig: false', async () => {
    const path = file();
    basicConfig({ destination: path, logFormat: 'plain', buffered: false, level: 'info' });
    unregister = registerLogging({ destination: file() });
    const ep = await entrypoint({
      ...base,
      logConfig: false,
      logFormat: 'json',
      logLevel: 'debug',
    }).start();
    getLogger('app').debug('not shown');
    getLogger('app').info('still plain');
    await ep.stop();
    await flush();
    expect(readLines(path)).toEqual(['still plain']);
  });
});
