import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const signalApp = fileURLToPath(new URL('./fixtures/signal-app.mjs', import.meta.url));
const pluginApp = fileURLToPath(new URL('./fixtures/slow-plugin-app/app.mjs', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface AppOptions {
  script?: string;
  stderr?: 'pipe' | number;
}

function startApp(env: Record<string, string>, options: AppOptions = {}) {
  const stdio: StdioOptions = ['ignore', 'pipe', options.stderr ?? 'pipe'];
  const child = spawn(process.execPath, [options.script ?? signalApp], {
    env: { ...process.env, AIOMISC_LOG_LEVEL: 'info', ...env },
    stdio,
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Resolves once stdout has a line equal to `line`. */
  const waitFor = (line: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.split('\n').includes(line)) {
          child.stdout!.off('data', check);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.on('exit', () => reject(new Error(`exited before "${line}": ${stdout}\n${stderr}`)));
      check();
    });
  const started = waitFor('started');
  started.catch(() => {}); // awaited only by the tests that expect a full start
  return { child, waitFor, started, exited, output: () => ({ stdout, stderr }) };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Entrypoint in a process', () => {
  it('stays alive while started and exits 0 after every stop ran on SIGTERM', async () => {
    const app = startApp({});
    await app.started;
    await delay(100);
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

  it('exits with code 70 naming only the service that did not stop in shutdownTimeout', async () => {
    const app = startApp({ MODE: 'hung', SHUTDOWN_TIMEOUT: '300' });
    await app.started;
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    const { stdout, stderr } = app.output();
    expect(stdout).toContain('hung stop called');
    expect(stdout).toContain('worker a stop');
    expect(stderr).toMatch(
      /Shutdown did not happen in 300 ms; still running: Hung; exiting with code 70$/m,
    );
  });

  it('exits with code 70 on a second signal during a stop, naming only what is left', async () => {
    const app = startApp({ MODE: 'hung' });
    await app.started;
    app.child.kill('SIGTERM');
    // A signal relayed right after the first (as pnpm relays Ctrl+C) is the same request.
    app.child.kill('SIGINT');
    await app.waitFor('hung stop called');
    await app.waitFor('worker b stop (InterruptSignalError)');
    await delay(700);
    expect(app.child.exitCode).toBe(null);
    // Pending signals are delivered in signal-number order, so either may come first.
    expect(app.output().stderr).toMatch(/SIG(INT|TERM) received while shutting down/);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    expect(app.output().stderr).toMatch(
      /Second SIGTERM received; exiting with code 70\. Still running: Hung$/m,
    );
  });

  it('a signal during a stop begun by stop() is the first request; the next one forces', async () => {
    const app = startApp({ MODE: 'hung', SELF_STOP: '1' });
    await app.waitFor('hung stop called');
    app.child.kill('SIGTERM');
    await delay(700);
    expect(app.child.exitCode).toBe(null);
    expect(app.output().stderr).toContain('SIGTERM received while stopping; still stopping');
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    expect(app.output().stderr).toMatch(/Second SIGTERM received; exiting with code 70/);
  });

  it('applies AIOMISC_SHUTDOWN_TIMEOUT in seconds', async () => {
    const app = startApp({ MODE: 'hung', AIOMISC_SHUTDOWN_TIMEOUT: '0.3' });
    await app.started;
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    expect(app.output().stderr).toContain('Shutdown did not happen in 300 ms');
  });

  it('waits out an AIOMISC_SHUTDOWN_TIMEOUT beyond 2^31 ms instead of exiting at once', async () => {
    const app = startApp({ MODE: 'hung', AIOMISC_SHUTDOWN_TIMEOUT: '3000000' });
    await app.started;
    app.child.kill('SIGTERM');
    await app.waitFor('hung stop called');
    await delay(1000);
    expect(app.child.exitCode).toBe(null);
    expect(app.output().stderr).not.toContain('exiting with code 70');
  });
});

describe('Entrypoint in a process: a signal before the services run', () => {
  it.each([
    ['while plugins load', { PLUGINS: '1', PHASE_MS: '1500' }, 'plugin loading', pluginApp],
    [
      'during extension setup',
      { MODE: 'slow-setup', PHASE_MS: '1500' },
      'setup started',
      signalApp,
    ],
    [
      'during an async PRE_START receiver',
      { MODE: 'slow-prestart', PHASE_MS: '1500' },
      'pre_start',
      signalApp,
    ],
  ])('%s: starts nothing and exits 0', async (_, env, marker, script) => {
    const app = startApp(env, { script });
    await app.waitFor(marker);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    const { stdout, stderr } = app.output();
    expect(stdout).toContain('stopped while starting');
    expect(stdout).toContain('closing');
    expect(stdout).not.toContain('worker a starting');
    expect(stderr).toContain('Interrupt signal SIGTERM received');
    expect(stderr).not.toMatch(/Error|context is closed/);
  });

  it('during extension setup: the extension set up meanwhile is torn down', async () => {
    const app = startApp({ MODE: 'slow-setup', PHASE_MS: '1500' });
    await app.waitFor('setup started');
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(app.output().stdout).toMatch(/setup finished\n(.*\n)*teardown\n/);
  });

  it('while services start: stops each of them and exits 0', async () => {
    const app = startApp({ MODE: 'slow-start', PHASE_MS: '10000' }); // aborted by the stop
    await app.waitFor('worker b starting');
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    const { stdout, stderr } = app.output();
    expect(stdout).toContain('worker a stop (InterruptSignalError)');
    expect(stdout).toContain('worker b stop (InterruptSignalError)');
    expect(stdout).toContain('stopped while starting');
    expect(stderr).not.toMatch(/InvalidStateError|context is closed|failed to start/);
  });

  it('a second signal right after the first while starting still exits 0', async () => {
    const app = startApp({ MODE: 'slow-setup', PHASE_MS: '1500' });
    await app.waitFor('setup started');
    app.child.kill('SIGTERM');
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(0);
    expect(app.output().stdout).toContain('stopped while starting');
  });
});

describe('Entrypoint in a process: the shutdown budget covers extension teardown', () => {
  it('exits 70 naming the teardown that outlived shutdownTimeout', async () => {
    const app = startApp({ MODE: 'slow-teardown', PHASE_MS: '20000', SHUTDOWN_TIMEOUT: '300' });
    await app.started;
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    const { stdout, stderr } = app.output();
    expect(stdout).toContain('teardown started');
    expect(stdout).not.toContain('teardown finished');
    expect(stderr).toMatch(/still running: extension "slow" teardown; exiting with code 70/);
  });

  it('exits 70 on a second signal during teardown', async () => {
    const app = startApp({ MODE: 'slow-teardown', PHASE_MS: '20000' });
    await app.started;
    app.child.kill('SIGTERM');
    await app.waitFor('teardown started');
    await delay(600);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(70);
    expect(app.output().stderr).toMatch(
      /Second SIGTERM received; exiting with code 70\. Still running: extension "slow" teardown/,
    );
  });
});

describe('Entrypoint in a process: logging to a broken stderr', () => {
  it('a closed pipe (EPIPE): every stop still runs and the exit code is 0', async () => {
    const app = startApp({ LOG_FLOOD: '1' });
    await app.started;
    app.child.stderr!.destroy();
    await delay(50);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    const { stdout } = app.output();
    expect(stdout).toContain('worker a stop (InterruptSignalError)');
    expect(stdout).toContain('worker b stop (InterruptSignalError)');
    expect(stdout).toContain('closing');
  });

  it.skipIf(!existsSync('/dev/full'))(
    'a full disk (/dev/full, ENOSPC): every stop still runs and the exit code is 0',
    async () => {
      const full = openSync('/dev/full', 'w');
      try {
        const app = startApp({ LOG_FLOOD: '1' }, { stderr: full });
        await app.started;
        app.child.kill('SIGTERM');
        expect(await app.exited).toBe(0);
        const { stdout } = app.output();
        expect(stdout).toContain('worker a stop (InterruptSignalError)');
        expect(stdout).toContain('worker b stop (InterruptSignalError)');
        expect(stdout).toContain('closing');
      } finally {
        closeSync(full);
      }
    },
  );
});
