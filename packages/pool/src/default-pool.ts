import { getLogger, registerExtension } from '@aiomisc/core';
import { globalSlot } from './global-slot';
import { ThreadPoolExecutor } from './thread-pool-executor';

const log = getLogger('aiomisc.pool');
const state = globalSlot('defaultPool', () => ({
  pool: undefined as ThreadPoolExecutor | undefined,
}));

/**
 * The default thread pool that `threaded` and its siblings use. Inside an entrypoint it is the
 * pool the entrypoint installed (`poolSize` threads). Outside one, the first call creates a
 * pool of `defaultPoolSize()` threads; its idle threads do not keep the process alive, and
 * {@link closeDefaultThreadPool} closes it.
 *
 * @example
 * ```ts
 * const pool = getDefaultThreadPool();
 * console.log(pool.size);
 * ```
 */
export function getDefaultThreadPool(): ThreadPoolExecutor {
  let pool = state.pool;
  if (!pool || pool.closed) {
    pool = new ThreadPoolExecutor(undefined, { statisticName: 'default' });
    state.pool = pool;
  }
  return pool;
}

/**
 * Installs `pool` as the default (or clears it with `undefined`) and returns the previous one,
 * which the caller now owns (close it when done).
 *
 * @example
 * ```ts
 * const previous = setDefaultThreadPool(new ThreadPoolExecutor(8));
 * await previous?.close();
 * ```
 */
export function setDefaultThreadPool(
  pool: ThreadPoolExecutor | undefined,
): ThreadPoolExecutor | undefined {
  const previous = state.pool;
  state.pool = pool;
  return previous;
}

/**
 * Closes the default pool if one exists (waiting for running tasks); the next `threaded` call
 * makes a new one.
 *
 * @example
 * ```ts
 * await closeDefaultThreadPool();
 * ```
 */
export async function closeDefaultThreadPool(): Promise<void> {
  const pool = state.pool;
  state.pool = undefined;
  await pool?.close();
}

/**
 * Name of the entrypoint extension that installs the default pool.
 *
 * @example
 * ```ts
 * const installed = getExtensions().some((extension) => extension.name === THREAD_POOL_EXTENSION);
 * ```
 */
export const THREAD_POOL_EXTENSION = 'aiomisc.pool';

/**
 * Registers the entrypoint extension that gives every started entrypoint a default thread pool
 * of `options.poolSize` threads and closes it after the entrypoint stops, as the Python
 * entrypoint does. The package's core plugin calls this for apps that depend on
 * `@aiomisc/pool`; call it yourself when plugins are off. Registering again is harmless.
 * Returns a function that unregisters the extension.
 *
 * @example
 * ```ts
 * registerThreadPoolExtension();
 * await using ep = await entrypoint({ poolSize: 8 }).start();
 * await hash('data'); // runs on the entrypoint's 8-thread pool
 * ```
 */
export function registerThreadPoolExtension(): () => void {
  const installed = new Map<object, ThreadPoolExecutor>();
  return registerExtension({
    name: THREAD_POOL_EXTENSION,
    setup(entrypoint) {
      const pool = new ThreadPoolExecutor(entrypoint.options.poolSize, {
        statisticName: 'default',
      });
      installed.set(entrypoint, pool);
      const previous = setDefaultThreadPool(pool);
      if (previous && ![...installed.values()].includes(previous)) {
        previous
          .close()
          .catch((error: unknown) =>
            log.error({ err: error }, 'Closing the previous default pool failed'),
          );
      }
    },
    async teardown(entrypoint) {
      const pool = installed.get(entrypoint);
      if (!pool) return;
      installed.delete(entrypoint);
      if (state.pool === pool) state.pool = undefined;
      await pool.close();
    },
  });
}
