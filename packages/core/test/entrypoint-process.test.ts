import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const app = fileURLToPath(new URL('./fixtures/signal-app.mjs', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startApp(env: Record<string, string>) {
  const child = spawn(process.execPath, [app], {
    env: { ...process.env, AIOMISC_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (stdout.includes('started\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`exited before start: ${stderr}`)));
  });
  return { child, started, exited, output: () => ({ stdout, stderr }) };
}

describe('Entrypoint in a process', () => {
  it('stays alive while started and exits 0 after every stop ran on SIGTERM', async () => {
    const app = startApp({});
    await app.started;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(app.child.exitCode).toBe(null);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    const { stdout, stderr } = app.output();
    expect(stdout).toContain('worker a stop (InterruptSignalError)');
    expect(stdout).toContain('worker b stop (InterruptSignalError)');
    expect(stdout).toContain('worker a start finished');
    expect(stdout).toContain('worker b start finished');
    expect(stdout).toContain('closing');
    expect(stderr).toContain('Interrupt signal SIGTERM received');
    expect(stderr).toContain('Stopped 2 services');
  });

  it('stops gracefully on SIGINT too', async () => {
    const app = startApp({});
    await app.started;
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(0);
    expect(app.output().stdout).toContain('worker b stop (InterruptSignalError)');
  });

  it('exits with code 70 naming the service when a stop outlives shutdownTimeout', async () => {
    const app = startApp({ MODE: 'hung', SHUTDOWN_TIMEOUT: '300' });
    await app.started;
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    const { stdout, stderr } = app.output();
    expect(stdout).toContain('hung stop called');
    expect(stdout).toContain('worker a stop');
    expect(stderr).toMatch(/services not stopped: Hung/);
  });

  it('exits with code 70 on a second signal during a stop', async () => {
    const app = startApp({ MODE: 'hung' });
    await app.started;
    app.child.kill('SIGTERM');
    // A signal relayed right after the first (as pnpm relays Ctrl+C) is the same request.
    app.child.kill('SIGINT');
    await new Promise<void>((resolve) => {
      const check = () =>
        app.output().stdout.includes('hung stop called') ? resolve() : setTimeout(check, 10);
      check();
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(app.child.exitCode).toBe(null);
    // Pending signals are delivered in signal-number order, so either may come first.
    expect(app.output().stderr).toMatch(/SIG(INT|TERM) received while shutting down/);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    expect(app.output().stderr).toMatch(/Second SIGTERM received.*Hung/);
  });

  it('applies AIOMISC_SHUTDOWN_TIMEOUT in seconds', async () => {
    const app = startApp({ MODE: 'hung', AIOMISC_SHUTDOWN_TIMEOUT: '0.3', SHUTDOWN_TIMEOUT: '' });
    await app.started;
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    expect(app.output().stderr).toContain('Shutdown did not happen in 300 ms');
  });
});
