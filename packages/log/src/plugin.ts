/**
 * The core plugin of `@aiomisc/log` (declared in its package.json under `aiomisc.plugins.log`):
 * an entrypoint of an app that depends on `@aiomisc/log` imports it and calls `setup()`.
 */
import { registerLogging } from './register-logging';

/** Shown by `aiomisc-plugins`. */
export const description =
  'Configures @aiomisc/log from the entrypoint log* options and flushes it at stop';

/**
 * Registers the logging extension (see `registerLogging`).
 *
 * @example
 * ```ts
 * import { setup } from '@aiomisc/log/dist/plugin.js';
 * setup();
 * ```
 */
export function setup(): void {
  registerLogging();
}
