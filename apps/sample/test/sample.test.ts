import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('sample app', () => {
  it('serves its status page and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: '0',
        HEARTBEAT_MS: '50',
        PROBE_MS: '50',
        AIOMISC_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /status page on (http:\/\/[^\s"]+)/.exec(output);
        if (match) resolve(match[1]!);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', () => reject(new Error(`sample exited early:\n${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let status: { greeting: string; beats: number; upstream?: { state: string; ok: number } };
    do {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await (await fetch(url)).json()) as typeof status;
    } while (!status.beats || !status.upstream?.ok);
    expect(status.greeting).toBe('hello from aiomisc');
    expect(status.upstream.state).toBe('PASSING');
    const hashed = (await (await fetch(`${url}hash?text=abc`)).json()) as { digest: string };
    expect(hashed.digest).toMatch(/^[0-9a-f]{64}$/);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // @aiomisc/log configured the JSON format through its plugin: every line is a JSON record.
    const records = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(records.some((record) => /Stopped 4 services/.test(record.msg))).toBe(true);
    expect(output).toMatch(/stopped after \d+ beats/);
  });
});
