import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { sleep } from '@aiomisc/core';
import { describe, expect, it } from 'vitest';

const app = fileURLToPath(new URL('./fixtures/sigterm-app.ts', import.meta.url));

describe('SIGTERM through the entrypoint', () => {
  it('flips readiness, finishes the request in flight, runs onClose and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', app], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    while (!stdout.includes('\n')) {
      if (child.exitCode !== null) throw new Error(`app exited early: ${stdout}`);
      await sleep(20);
    }
    const { port, health } = JSON.parse(stdout.split('\n')[0]!) as { port: number; health: number };
    expect((await fetch(`http://127.0.0.1:${health}/readyz`)).status).toBe(200);

    const slow = fetch(`http://127.0.0.1:${port}/slow`);
    await sleep(100);
    child.kill('SIGTERM');
    await sleep(100);
    expect((await fetch(`http://127.0.0.1:${health}/readyz`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${health}/livez`)).status).toBe(200);

    const response = await slow;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('slow done');
    expect(await exited).toBe(0);
    expect(stdout).toContain('onClose');
  });
});
