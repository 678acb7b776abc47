import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { basicConfig, flush, getLogger } from '../src/index';
import { readLines, temporaryDirectory } from './helpers';

const dir = temporaryDirectory();
let serial = 0;

afterAll(() => {
  basicConfig({ logFormat: 'disabled', buffered: false });
});

/** Configures `options`, logs a few records through a named logger, flushes and reads the file. */
async function logTo(
  options: Parameters<typeof basicConfig>[0],
  dateFormat: string | null = null,
): Promise<string[]> {
  const destination = join(dir, `out-${serial++}.log`);
  basicConfig({ level: 'debug', dateFormat, ...options, destination });
  const log = getLogger('fmt');
  log.info({ port: 8080, path: 'a b' }, 'listening');
  log.debug('details');
  log.warn('careful');
  log.error({ err: new Error('boom') }, 'failed');
  await flush();
  return readLines(destination);
}

describe.each([false, true])('formats (buffered: %s)', (buffered) => {
  it('json writes one JSON object a line with level, time and msg', async () => {
    const lines = await logTo({ logFormat: 'json', buffered });
    expect(lines).toHaveLength(4);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => record.level)).toEqual([30, 20, 40, 50]);
    expect(records.map((record) => record.msg)).toEqual([
      'listening',
      'details',
      'careful',
      'failed',
    ]);
    for (const record of records) {
      expect(typeof record.time).toBe('number');
      expect(record.name).toBe('fmt');
      expect(record.pid).toBe(process.pid);
    }
    expect(records[0]).toMatchObject({ port: 8080, path: 'a b' });
    expect(records[3]!.err).toMatchObject({ type: 'Error', message: 'boom' });
  });

  it('json writes the time with dateFormat when one is given', async () => {
    const lines = await logTo({ logFormat: 'json', buffered }, '%Y-%m-%d');
    const record = JSON.parse(lines[0]!) as { time: string };
    expect(record.time).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('stream writes [date] LEVEL:name:message lines without colour', async () => {
    const lines = await logTo({ logFormat: 'stream', buffered, color: true });
    expect(lines[0]).toMatch(
      /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] INFO:fmt:listening port=8080 path="a b"$/,
    );
    expect(lines[1]).toMatch(/\] DEBUG:fmt:details$/);
    expect(lines[2]).toMatch(/\] WARNING:fmt:careful$/);
    expect(lines[3]).toMatch(/\] ERROR:fmt:failed$/);
    expect(lines[4]).toBe('Error: boom');
    expect(lines[5]).toMatch(/^ {4}at /);
    expect(lines.join('\n')).not.toContain('\u001b[');
  });

  it('color writes ANSI colours only when colour is on', async () => {
    const plain = await logTo({ logFormat: 'color', buffered, color: false }, '%H:%M');
    expect(plain[0]).toMatch(/^\d{2}:\d{2} INFO:fmt: listening port=8080/);
    expect(plain.join('\n')).not.toContain('\u001b[');
    const coloured = await logTo({ logFormat: 'color', buffered, color: true });
    expect(coloured[0]).toContain('\u001b[32mINFO\u001b[0m');
    expect(coloured[3]).toContain('\u001b[31mERROR\u001b[0m');
  });

  it('plain writes the message only, then the stack of an error', async () => {
    const lines = await logTo({ logFormat: 'plain', buffered });
    expect(lines.slice(0, 5)).toEqual(['listening', 'details', 'careful', 'failed', 'Error: boom']);
  });

  it('journald prefixes every line with its syslog priority', async () => {
    const lines = await logTo({ logFormat: 'journald', buffered });
    expect(lines.slice(0, 5)).toEqual([
      '<6>fmt: listening port=8080 path="a b"',
      '<7>fmt: details',
      '<4>fmt: careful',
      '<3>fmt: failed',
      '<3>Error: boom',
    ]);
    for (const line of lines) expect(line).toMatch(/^<[0-7]>/);
  });

  it('rich writes pretty records; rich_tb adds the code around the failing line', async () => {
    const rich = (await logTo({ logFormat: 'rich', buffered, color: false })).join('\n');
    expect(rich).toMatch(/^\[\d{2}:\d{2}:\d{2}\] INFO \(fmt\): listening/);
    expect(rich).toContain('port: 8080');
    expect(rich).toContain('Error: boom');
    expect(rich).not.toContain('❱');
    const richTb = (await logTo({ logFormat: 'rich_tb', buffered, color: false })).join('\n');
    expect(richTb).toContain('formats.test.ts:');
    expect(richTb).toMatch(/❱ +\d+ │ .*new Error\('boom'\)/);
  });

  it('disabled writes nothing and leaves the handlers', async () => {
    const lines: string[] = [];
    const destination = join(dir, `out-${serial++}.log`);
    basicConfig({
      logFormat: 'disabled',
      buffered,
      destination,
      handlers: [{ write: (line: string) => lines.push(line) }],
    });
    getLogger('fmt').info('to the handler only');
    await flush();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'to the handler only', name: 'fmt' });
    expect(existsSync(destination)).toBe(false);
  });
});
