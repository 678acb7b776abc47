import { registerThreadPoolExtension } from './default-pool';

/**
 * What `aiomisc-plugins` lists for this plugin.
 *
 * @example
 * ```ts
 * console.log(description);
 * ```
 */
export const description =
  'Installs the default thread pool (poolSize threads) in every entrypoint';

/**
 * The core plugin hook (`"aiomisc": { "plugins": { "pool": "./dist/plugin.js" } }`): an
 * entrypoint of an app that depends on `@aiomisc/pool` loads this module and calls `setup()`
 * once, which registers the default thread pool extension.
 *
 * @example
 * ```ts
 * // package.json of @aiomisc/pool: "aiomisc": { "plugins": { "pool": "./dist/plugin.js" } }
 * // an entrypoint of an app depending on it imports this module and calls:
 * setup();
 * ```
 */
export function setup(): void {
  registerThreadPoolExtension();
}
