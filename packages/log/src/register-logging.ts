import { registerExtension, type LoggingOptions } from '@aiomisc/core';
import { basicConfig, flush, type BasicConfigOptions, type LogHandler } from './basic-config';

/**
 * The name of the core extension {@link registerLogging} registers.
 *
 * @example
 * ```ts
 * getExtensions().some((extension) => extension.name === LOGGING_EXTENSION);
 * ```
 */
export const LOGGING_EXTENSION = 'aiomisc.log';

/**
 * Makes every entrypoint configure `@aiomisc/log` from its `log*` options (`logLevel`,
 * `logFormat`, `logDateFormat`, `logBuffering`, `logBufferSize`, `logFlushInterval`,
 * `logHandlers`) when it starts, unless it has `logConfig: false`, and flush every record when
 * it stops. Apps that depend on `@aiomisc/log` get this through its core plugin without calling
 * it; call it yourself when plugins are off. `defaults` supply options the entrypoint has no
 * name for (`destination`, `syslog`, `color`). Returns a function that unregisters it.
 *
 * @example
 * ```ts
 * import { entrypoint } from '@aiomisc/core';
 * import { registerLogging } from '@aiomisc/log';
 *
 * registerLogging();
 * await using ep = await entrypoint({ logFormat: 'json', logLevel: 'debug' }).start();
 * ```
 */
export function registerLogging(
  defaults: Pick<BasicConfigOptions, 'destination' | 'syslog' | 'color'> = {},
): () => void {
  return registerExtension({
    name: LOGGING_EXTENSION,
    configureLogging(options: LoggingOptions) {
      basicConfig({
        ...defaults,
        level: options.level,
        logFormat: options.format,
        dateFormat: options.dateFormat,
        buffered: options.buffered,
        bufferSize: options.bufferSize,
        flushInterval: options.flushInterval,
        handlers: options.handlers as readonly LogHandler[],
      });
    },
    async teardown() {
      await flush();
    },
  });
}
