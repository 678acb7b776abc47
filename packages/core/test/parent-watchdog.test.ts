import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { describe, expect, it } from 'vitest';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('exitWithParent', () => {
  it('ends a child whose main thread is blocked once its parent is SIGKILLed', async () => {
    const parent = spawn(
      process.execPath,
      [new URL('./fixtures/parent-of-busy-child.mjs', import.meta.url).pathname],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const [chunk] = (await once(parent.stdout, 'data')) as [Buffer];
    const child = Number(chunk.toString().trim());
    expect(alive(child)).toBe(true);
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    const deadline = Date.now() + 10_000;
    while (alive(child) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const survived = alive(child);
    if (survived) process.kill(child, 'SIGKILL');
    expect(survived).toBe(false);
  });
});
