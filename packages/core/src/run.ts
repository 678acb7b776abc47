import { Entrypoint } from './entrypoint';
import { InvalidStateError } from './errors/invalid-state-error';
import type { EntrypointOptions } from './entrypoint-options';

/** What `run()` hands to the main function. */
export interface RunContext {
  entrypoint: Entrypoint;
  /** Aborted when the entrypoint begins to stop (a signal arrived), already if it came during start. */
  signal: AbortSignal;
}

/**
 * Starts an entrypoint with the given services, runs `main`, then stops everything and
 * resolves to `main`'s result: the seed's `aiomisc.run()`. If `main` throws, the error reaches
 * every service's `stop()` and then rejects the call.
 *
 * @example
 * ```ts
 * const answer = await run(async ({ entrypoint }) => {
 *   const db = await entrypoint.context.get<Db>('db');
 *   return db.query('select 42');
 * }, { services: [new DbService()] });
 * ```
 */
export async function run<TResult>(
  main: (context: RunContext) => TResult | Promise<TResult>,
  options: EntrypointOptions = {},
): Promise<TResult> {
  const entrypoint = await new Entrypoint(options).start();
  const controller = new AbortController();
  const abort = () => controller.abort(new InvalidStateError('entrypoint is stopping'));
  // A signal during start() already stopped it: main runs with its signal aborted.
  if (!entrypoint.isRunning) abort();
  else void entrypoint.closing().then(abort);
  let result: TResult;
  try {
    result = await main({ entrypoint, signal: controller.signal });
  } catch (error) {
    await entrypoint.stop(error).catch(() => {});
    throw error;
  }
  await entrypoint.stop();
  return result;
}
