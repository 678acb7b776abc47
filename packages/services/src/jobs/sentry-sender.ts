import {
  expectNumber,
  expectOneOf,
  getLogger,
  getLoggerFactory,
  InvalidArgumentError,
  Service,
  setLoggerFactory,
} from '@aiomisc/core';
import type { LoggerFactory } from '@aiomisc/core';
import type * as SentryModule from '@sentry/node';

/** Options of {@link SentrySender}. */
export interface SentrySenderOptions {
  /** The project's DSN. Required; it is never written to a log line. */
  dsn: string;
  /** @default process.env.SENTRY_ENVIRONMENT */
  environment?: string;
  /** @default process.env.SENTRY_RELEASE */
  release?: string;
  /** The server name events carry. @default process.env.SENTRY_NAME, else the host name */
  name?: string;
  /** Log records at this level and above become events. @default 'error' */
  minLevel?: 'warn' | 'error';
  /** How long stop() waits for events still being sent, in ms. @default 2000 */
  flushTimeout?: number;
  /** Passed to `Sentry.init` as well (sampleRate, beforeSend, tags via initialScope, ...). */
  sentryOptions?: Record<string, unknown>;
}

const log = getLogger('aiomisc.sentry');
type Method = 'debug' | 'info' | 'warn' | 'error';

/** The DSN with its key masked, for error messages. */
function redactDsn(dsn: string): string {
  return dsn.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Reports errors to Sentry through **@sentry/node** (an optional peer dependency; the seed's
 * `RavenSender` on the old raven client): uncaught exceptions, unhandled rejections and log
 * records at `minLevel` and above written through the `@aiomisc/*` loggers, tagged with
 * `environment`, `release` and `name` (defaults from `SENTRY_ENVIRONMENT`, `SENTRY_RELEASE`,
 * `SENTRY_NAME`). At stop it flushes, waiting at most `flushTimeout`. The DSN never appears
 * in a log line or error message.
 *
 * @example
 * ```ts
 * const sentry = new SentrySender({ dsn: process.env.SENTRY_DSN!, release: '1.4.2' });
 * await entrypoint({ services: [sentry, new Api()] }).start();
 * ```
 */
export class SentrySender extends Service<SentrySenderOptions> {
  static override required: readonly string[] = ['dsn'];
  #sentry: typeof SentryModule | undefined;
  #restoreLogger: (() => void) | undefined;

  constructor(options: SentrySenderOptions) {
    super(options);
    const { dsn } = this.options;
    let valid = false;
    if (typeof dsn === 'string') {
      try {
        const url = new URL(dsn);
        valid = /^https?:$/.test(url.protocol) && url.username !== '' && url.pathname !== '/';
      } catch {
        valid = false;
      }
    }
    if (!valid) {
      throw new InvalidArgumentError(
        'dsn',
        typeof dsn === 'string' ? redactDsn(dsn) : dsn,
        'a Sentry DSN such as https://<key>@o1.ingest.sentry.io/<project>',
      );
    }
    expectOneOf('minLevel', this.options.minLevel ?? 'error', ['warn', 'error']);
    expectNumber('flushTimeout', this.options.flushTimeout ?? 2000, { min: 0 });
  }

  override async start(): Promise<void> {
    let Sentry: typeof SentryModule;
    try {
      Sentry = await import('@sentry/node');
    } catch (error) {
      throw new InvalidArgumentError(
        'SentrySender',
        '@sentry/node',
        `usable with the optional peer dependency "@sentry/node" installed (pnpm add @sentry/node): ${String(error)}`,
      );
    }
    const {
      dsn,
      environment = process.env.SENTRY_ENVIRONMENT,
      release = process.env.SENTRY_RELEASE,
      name = process.env.SENTRY_NAME,
    } = this.options;
    Sentry.init({
      dsn,
      environment,
      release,
      serverName: name,
      skipOpenTelemetrySetup: true,
      defaultIntegrations: false,
      integrations: [
        Sentry.onUncaughtExceptionIntegration(),
        Sentry.onUnhandledRejectionIntegration({ mode: 'warn' }),
        Sentry.linkedErrorsIntegration(),
        Sentry.nodeContextIntegration(),
        Sentry.contextLinesIntegration(),
      ],
      ...this.options.sentryOptions,
    });
    this.#sentry = Sentry;
    this.#restoreLogger = this.#captureLogRecords(Sentry);
    log.info(
      `reporting errors to Sentry (environment ${environment ?? 'unset'}, release ${release ?? 'unset'})`,
    );
  }

  /** Flushes pending events (at most `flushTimeout`) and closes the client. */
  override async stop(): Promise<void> {
    const Sentry = this.#sentry;
    this.#sentry = undefined;
    this.#restoreLogger?.();
    this.#restoreLogger = undefined;
    if (!Sentry) return;
    const flushed = await Sentry.close(this.options.flushTimeout ?? 2000);
    if (!flushed) log.warn('some events were not sent before flushTimeout');
  }

  /**
   * Puts a logger factory in front of the current one (core's `getLoggerFactory()`) that sends
   * records at minLevel and above to Sentry, then writes them where they went before.
   */
  #captureLogRecords(Sentry: typeof SentryModule): () => void {
    const previous = getLoggerFactory();
    const minimum = this.options.minLevel === 'warn' ? 30 : 40;
    const severity: Record<Method, number> = { debug: 10, info: 20, warn: 30, error: 40 };
    const factory: LoggerFactory = (name) => {
      const base = previous(name);
      const write =
        (method: Method) =>
        (first: string | object, second?: string): void => {
          if (severity[method] >= minimum && !name.startsWith('aiomisc.sentry')) {
            report(Sentry, name, method, first, second);
          }
          if (second === undefined) base[method](first as string);
          else base[method](first as object, second);
        };
      return {
        debug: write('debug'),
        info: write('info'),
        warn: write('warn'),
        error: write('error'),
      };
    };
    const restore = setLoggerFactory(factory);
    return () => {
      if (getLoggerFactory() === factory) restore();
    };
  }
}

function report(
  Sentry: typeof SentryModule,
  name: string,
  method: Method,
  first: string | object,
  second: string | undefined,
): void {
  const message = typeof first === 'string' ? first : (second ?? '');
  const fields = typeof first === 'string' ? {} : (first as Record<string, unknown>);
  const { err, ...extra } = fields;
  const level = method === 'warn' ? 'warning' : 'error';
  const context = { level, tags: { logger: name }, extra: { ...extra, message } } as const;
  if (err instanceof Error) Sentry.captureException(err, context);
  else Sentry.captureMessage(message, context);
}
