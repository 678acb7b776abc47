import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { getLogger, InvalidArgumentError, RequiredOptionsError } from '@aiomisc/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SentrySender, type SentrySenderOptions } from '../../src/index';

interface SentryEvent {
  message?: string;
  level?: string;
  environment?: string;
  release?: string;
  server_name?: string;
  tags?: Record<string, string>;
  exception?: { values: { type: string; value: string; mechanism?: { type: string } }[] };
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString();
}

/** A local stand-in for Sentry's ingest: counts envelopes and keeps their events. */
async function ingest(options: { hang?: boolean } = {}) {
  const events: SentryEvent[] = [];
  let envelopes = 0;
  server = createServer((request, response) => {
    void body(request).then((text) => {
      envelopes++;
      const lines = text.split('\n').filter(Boolean);
      for (let index = 1; index + 1 < lines.length; index += 2) {
        const header = JSON.parse(lines[index]!) as { type: string };
        if (header.type === 'event') events.push(JSON.parse(lines[index + 1]!) as SentryEvent);
      }
      if (options.hang) return;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    dsn: `http://abcdef0123456789secretkey@127.0.0.1:${port}/42`,
    events,
    get envelopes() {
      return envelopes;
    },
  };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SentrySender', () => {
  it('sends error-level log records with environment, release and name; the DSN is never logged', async () => {
    const target = await ingest();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const sentry = new SentrySender({
      dsn: target.dsn,
      environment: 'testing',
      release: '9.9.9',
      name: 'replica-1',
    });
    await sentry.start();
    const log = getLogger('my.app');
    log.info('not an error');
    log.warn('only a warning');
    log.error({ err: new TypeError('bad input') }, 'request failed');
    log.error('plain error message');
    await sentry.stop();
    expect(target.envelopes).toBe(2);
    expect(target.events).toHaveLength(2);
    const exception = target.events.find((event) => event.exception);
    const message = target.events.find((event) => !event.exception);
    expect(exception?.exception?.values[0]).toMatchObject({
      type: 'TypeError',
      value: 'bad input',
    });
    expect(exception).toMatchObject({
      environment: 'testing',
      release: '9.9.9',
      server_name: 'replica-1',
      level: 'error',
      tags: { logger: 'my.app' },
    });
    expect(message?.message).toBe('plain error message');
    const written = stderr.mock.calls.map(([line]) => String(line)).join('');
    expect(written).toContain('request failed');
    expect(written).toContain('reporting errors to Sentry');
    expect(written).not.toContain('abcdef0123456789secretkey');
    // after stop, records are no longer sent
    log.error('after stop');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(target.envelopes).toBe(2);
  });

  it('reads SENTRY_ENVIRONMENT, SENTRY_RELEASE and SENTRY_NAME', async () => {
    const target = await ingest();
    vi.stubEnv('SENTRY_ENVIRONMENT', 'from-env');
    vi.stubEnv('SENTRY_RELEASE', '1.2.3');
    vi.stubEnv('SENTRY_NAME', 'env-host');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const sentry = new SentrySender({ dsn: target.dsn, minLevel: 'warn' });
      await sentry.start();
      getLogger('my.app').warn('a warning now counts');
      await sentry.stop();
    } finally {
      vi.unstubAllEnvs();
    }
    expect(target.events[0]).toMatchObject({
      environment: 'from-env',
      release: '1.2.3',
      server_name: 'env-host',
      level: 'warning',
      message: 'a warning now counts',
    });
  });

  it('stop() is bounded by flushTimeout when the endpoint never answers', async () => {
    const target = await ingest({ hang: true });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const sentry = new SentrySender({ dsn: target.dsn, flushTimeout: 300 });
    await sentry.start();
    getLogger('my.app').error('into the void');
    const t0 = performance.now();
    await sentry.stop();
    expect(performance.now() - t0).toBeLessThan(5000);
    await sentry.stop();
  });

  it(
    'reports uncaught exceptions and unhandled rejections of a real process',
    { timeout: 30_000 },
    async () => {
      const target = await ingest();
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(new URL('./fixtures/sentry-child.ts', import.meta.url)),
          target.dsn,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      await until(() => target.events.length >= 3);
      expect(code).not.toBe(0);
      const values = target.events.map((event) => event.exception?.values.at(-1)?.value);
      expect(values).toEqual(
        expect.arrayContaining([
          'logged in the child',
          'nobody awaited this',
          'thrown and not caught',
        ]),
      );
      const mechanisms = target.events.map(
        (event) => event.exception?.values.at(-1)?.mechanism?.type,
      );
      expect(mechanisms).toEqual(
        expect.arrayContaining([
          expect.stringContaining('onunhandledrejection'),
          expect.stringContaining('onuncaughtexception'),
        ]),
      );
      expect(output).not.toContain('abcdef0123456789secretkey');
    },
  );

  it('rejects a missing or bad DSN without echoing its key', () => {
    expect(() => new SentrySender({} as SentrySenderOptions)).toThrow(RequiredOptionsError);
    try {
      new SentrySender({ dsn: 'ftp://topsecret@host/1' });
      expect.unreachable();
    } catch (error) {
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('dsn');
      expect((error as Error).message).not.toContain('topsecret');
    }
    expect(() => new SentrySender({ dsn: 'http://k@h/1', flushTimeout: -1 })).toThrow(
      /flushTimeout/,
    );
  });
});
