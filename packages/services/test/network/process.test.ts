import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { closed, connectTo, roundTrip } from './helpers';

const app = fileURLToPath(new URL('./fixtures/echo-app.mjs', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('TCPServer in a process under an entrypoint', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops gracefully on ${signal}: idle clients ended, busy handlers finish, exit 0`, async () => {
      const child = spawn(process.execPath, [app], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.resume();
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      const ports = await new Promise<{ echo: number; farewell: number }>((resolve, reject) => {
        const check = () => {
          const line = stdout.split('\n').find((entry) => entry.startsWith('{'));
          if (line) resolve(JSON.parse(line) as { echo: number; farewell: number });
        };
        child.stdout.on('data', check);
        child.once('exit', () => reject(new Error(`exited early: ${stdout}`)));
      });
      const idle = await connectTo(ports.echo);
      expect((await roundTrip(idle, 'ping')).toString()).toBe('ping');
      const busy = await connectTo(ports.farewell);
      expect((await roundTrip(busy, 'hi')).toString()).toBe('hi');
      const farewell: Buffer[] = [];
      busy.on('data', (chunk: Buffer) => farewell.push(chunk));
      const started = performance.now();
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(performance.now() - started).toBeLessThan(5000);
      await Promise.all([closed(idle), closed(busy)]);
      expect(Buffer.concat(farewell).toString()).toBe('bye\n');
      expect(stdout).toContain('closed');
    });
  }
});
