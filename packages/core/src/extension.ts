import type { Entrypoint } from './entrypoint';
import { globalSlot } from './global-registry';
import type { LogFormatName, LogLevelName } from './log-names';

/** What an entrypoint (or the `aiomisc-plugins` CLI) asks the logging extension to set up. */
export interface LoggingOptions {
  level: LogLevelName;
  /** undefined: the logging package picks its default (journald, colour on a TTY, else json). */
  format: LogFormatName | undefined;
  dateFormat: string | null;
  buffered: boolean;
  bufferSize: number;
  /** In milliseconds. */
  flushInterval: number;
  handlers: readonly unknown[];
}

/**
 * A hook into every entrypoint's lifecycle, registered by a package that plugs into core
 * without core depending on it: `@aiomisc/log` configures logging, `@aiomisc/pool` installs the
 * default thread pool. Order: `configureLogging` (unless `logConfig: false`), `setup`, PRE_START,
 * services …, POST_STOP, `teardown` (in reverse registration order).
 */
export interface EntrypointExtension {
  /** Unique name; registering the same name again replaces the earlier one. */
  readonly name: string;
  /** Configures logging from the entrypoint's `log*` options. */
  configureLogging?(options: LoggingOptions): void | Promise<void>;
  /** Runs when an entrypoint starts, before PRE_START. */
  setup?(entrypoint: Entrypoint): void | Promise<void>;
  /** Runs when an entrypoint has stopped, after POST_STOP; also after a failed start. */
  teardown?(entrypoint: Entrypoint): void | Promise<void>;
}

const extensions = globalSlot('extensions', () => new Map<string, EntrypointExtension>());

/**
 * Registers an {@link EntrypointExtension} for every entrypoint started from now on.
 * Returns a function that unregisters it.
 *
 * @example
 * ```ts
 * registerExtension({
 *   name: 'metrics',
 *   setup: (ep) => startMetricsServer(ep.context),
 *   teardown: () => stopMetricsServer(),
 * });
 * ```
 */
export function registerExtension(extension: EntrypointExtension): () => void {
  extensions.set(extension.name, extension);
  return () => {
    if (extensions.get(extension.name) === extension) extensions.delete(extension.name);
  };
}

/** The registered extensions, in registration order. */
export function getExtensions(): EntrypointExtension[] {
  return [...extensions.values()];
}
