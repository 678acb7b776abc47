import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFixture } from './helpers';

const fixture = join(import.meta.dirname, 'fixtures', 'flood.ts');
const count = 100_000;

function countRecords(stderr: string): { records: number; distinct: number; unhandled: number } {
  const seen = new Set<number>();
  let records = 0;
  let unhandled = 0;
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as { msg?: string; i?: number; name?: string };
    if (record.msg === 'record' && record.name === 'flood') {
      records++;
      seen.add(record.i!);
    }
    if (record.name === 'unhandled') unhandled++;
  }
  return { records, distinct: seen.size, unhandled };
}

describe('buffered mode loses no record', () => {
  it('writes all 100,000 records when the script returns', async () => {
    const result = await runFixture(fixture, ['return', String(count)]);
    expect(result.code).toBe(0);
    expect(countRecords(result.stderr)).toEqual({ records: count, distinct: count, unhandled: 0 });
  }, 60_000);

  it('writes all 100,000 records and the error when an uncaught exception ends the process', async () => {
    const result = await runFixture(fixture, ['throw', String(count)]);
    expect(result.code).toBe(1);
    expect(countRecords(result.stderr)).toEqual({ records: count, distinct: count, unhandled: 1 });
    expect(result.stderr).toContain('crash after the flood');
  }, 60_000);

  it('writes all 100,000 records when SIGTERM stops the entrypoint', async () => {
    let signalled = false;
    const result = await runFixture(fixture, ['sigterm', String(count)], {
      onStdout: (stdout, child) => {
        if (!signalled && stdout.includes('ready\n')) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled, `the child never got ready: ${result.stderr.slice(-500)}`).toBe(true);
    expect(result.code).toBe(0);
    expect(countRecords(result.stderr)).toEqual({ records: count, distinct: count, unhandled: 0 });
    expect(result.stderr).toContain('Interrupt signal SIGTERM received');
  }, 60_000);
});
