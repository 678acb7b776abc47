// The buffered mode's worker as the main thread sees it: where its file is (also after
// bundling), how flush() and the exit wait for it, and how its failures are reported.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidStateError } from '@aiomisc/core';
import pino from 'pino';
import { Cell, createControl, DRAIN_MARKER, waitForDrain, type DrainResult } from './drain-control';
import { reportProblem } from './report';
import type { Sink, ThreadStreamLike } from './sink';
import type { TransportOptions } from './transport';

/** A buffered worker as the exit hook and close() see it. */
interface TransportHandle {
  stream: ThreadStreamLike;
  control: Int32Array;
  drainTimeout: number;
  /**
   * `Cell.progress` when flush() last gave up on a stalled destination: if nothing was written
   * since, the exit does not wait another `drainTimeout` for it.
   */
  gaveUpAt?: number;
  /** Drain markers written so far; the n-th is handled when `Cell.drained` reaches n. */
  markers: number;
}

interface Registry {
  /** The live buffered workers the exit hook waits for. */
  transports: Set<TransportHandle>;
  exitHooked: boolean;
}

const registry: Registry = ((globalThis as unknown as Record<symbol, Registry | undefined>)[
  Symbol.for('aiomisc.log.transports')
] ??= { transports: new Set(), exitHooked: false });

const TRANSPORT_KEY = '@aiomisc/log/transport';

/** The output names of the worker files next to a bundle (see {@link transportEntryPoints}). */
const BUNDLED_NAMES = {
  transport: 'aiomisc-log-transport',
  threadStream: 'thread-stream-worker',
} as const;

/** Environment variable naming the folder that holds the bundled worker files. */
const WORKER_DIR_VARIABLE = 'AIOMISC_LOG_WORKER_DIR';

const here = import.meta.url;
// The running build's extension (.js, .cjs, or a bundle's own such as .mjs).
const extension = here.endsWith('.ts') ? '.js' : extname(fileURLToPath(here)) || '.js';

function bundlerOverrides(): Record<string, string | undefined> | undefined {
  const overrides = (globalThis as { __bundlerPathsOverrides?: unknown }).__bundlerPathsOverrides;
  return typeof overrides === 'object' && overrides !== null
    ? (overrides as Record<string, string | undefined>)
    : undefined;
}

/**
 * Entry points to add to a bundle of an app that uses buffered logging, as `{ outputName:
 * sourceFile }` (the object form of esbuild's `entryPoints`; webpack's `entry` and rollup's
 * `input` take the same): this package's transport worker and pino's thread-stream worker. The
 * bundler must write them into the folder where the bundled `@aiomisc/log` code lands (the
 * output folder, with esbuild), under these names; the package then finds both by itself. Call
 * it in the build script, not in the app.
 *
 * @example
 * ```ts
 * import { build } from 'esbuild';
 * import { transportEntryPoints } from '@aiomisc/log';
 *
 * await build({
 *   entryPoints: { app: 'src/app.ts', ...transportEntryPoints() },
 *   bundle: true, platform: 'node', format: 'cjs', outdir: 'out',
 * });
 * ```
 */
export function transportEntryPoints(): Record<string, string> {
  const require = createRequire(here);
  const ownDist = here.endsWith('.ts')
    ? fileURLToPath(new URL('../dist/', here))
    : dirname(fileURLToPath(here));
  return {
    [BUNDLED_NAMES.transport]: join(ownDist, 'transport.js'),
    [BUNDLED_NAMES.threadStream]: createRequire(require.resolve('pino')).resolve(
      'thread-stream/lib/worker.js',
    ),
  };
}

/**
 * Next to a bundle (or in `AIOMISC_LOG_WORKER_DIR`): the transport worker under its bundled
 * name. Found there, pino's thread-stream worker beside it becomes thread-stream's override
 * (unless one is set), so such a bundle needs no paths of its own.
 */
function bundledTransport(tried: string[]): string | undefined {
  const directory = process.env[WORKER_DIR_VARIABLE] || dirname(fileURLToPath(here));
  const file = join(directory, `${BUNDLED_NAMES.transport}${extension}`);
  tried.push(file);
  if (!existsSync(file)) return undefined;
  const threadStream = join(directory, `${BUNDLED_NAMES.threadStream}${extension}`);
  const overrides = ((
    globalThis as { __bundlerPathsOverrides?: Record<string, string | undefined> }
  ).__bundlerPathsOverrides ??= {});
  if (overrides['thread-stream-worker'] === undefined && existsSync(threadStream)) {
    overrides['thread-stream-worker'] = threadStream;
  }
  return file;
}

/**
 * The path of the transport worker module: `transportWorker`, else the bundler override
 * `globalThis.__bundlerPathsOverrides['@aiomisc/log/transport']` (pino's convention for bundled
 * apps), else next to this module in `dist` (or `../dist` when this file runs from `src`), else
 * `aiomisc-log-transport` next to a bundle (or in `AIOMISC_LOG_WORKER_DIR`), else wherever
 * `@aiomisc/log/transport` resolves from here (a bundle deployed with node_modules).
 */
function transportPath(explicit: string | undefined): string {
  const bundlingHint =
    `when bundling, add transportEntryPoints() from @aiomisc/log to the bundle's entry points (or emit '${TRANSPORT_KEY}' ` +
    `as a file of its own and pass its path as basicConfig({ transportWorker }) or ` +
    `globalThis.__bundlerPathsOverrides['${TRANSPORT_KEY}']), or set ${WORKER_DIR_VARIABLE} to the folder that holds it ` +
    `(see "Bundling" in the @aiomisc/log README), or keep @aiomisc/log external`;
  if (explicit !== undefined) {
    if (existsSync(explicit)) return explicit;
    throw new InvalidStateError(
      `the @aiomisc/log transport worker ${explicit} (the transportWorker option) was not found; ${bundlingHint}`,
    );
  }
  const override = bundlerOverrides()?.[TRANSPORT_KEY];
  if (override !== undefined) {
    if (existsSync(override)) return override;
    throw new InvalidStateError(
      `the @aiomisc/log transport worker ${override} (globalThis.__bundlerPathsOverrides['${TRANSPORT_KEY}']) was not found; ${bundlingHint}`,
    );
  }
  const directory = dirname(fileURLToPath(here));
  const tried = [join(directory, 'transport.js'), join(directory, '..', 'dist', 'transport.js')];
  for (const candidate of tried) {
    if (existsSync(candidate)) return candidate;
  }
  const bundled = bundledTransport(tried);
  if (bundled !== undefined) return bundled;
  try {
    return createRequire(here).resolve(TRANSPORT_KEY);
  } catch {
    // not installed next to this code either
  }
  throw new InvalidStateError(
    `the @aiomisc/log transport worker was not found (looked for ${tried.join(', ')}); ${bundlingHint}`,
  );
}

/**
 * A failing transport worker must not take the application down with an unhandled 'error'
 * event: report it once on stderr (the one place left to report to). A worker that reported
 * its own failure to start (control: dead, never started) is not reported twice.
 */
export function reportWorkerErrors(stream: ThreadStreamLike, control?: Int32Array): void {
  let reported = false;
  stream.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    if (
      control &&
      Atomics.load(control, Cell.dead) === 1 &&
      Atomics.load(control, Cell.started) === 0
    )
      return;
    const hint = /worker\.js|Cannot find module/.test(String(error?.message))
      ? ' (if the app is bundled, see "Bundling" in the @aiomisc/log README)'
      : '';
    reportProblem(`a transport worker failed${hint}: ${error?.stack ?? String(error)}`);
  });
}

/** Longest wait for a worker that has not started yet (it normally takes well under a second). */
const startTimeout = 10_000;

/**
 * Makes the worker write everything it holds and blocks until it has (the main thread's event
 * loop may be stopped: this runs in the `exit` hook). Bounded by `drainTimeout` without progress.
 */
function drainSync(handle: TransportHandle): DrainResult {
  const { stream, control, drainTimeout } = handle;
  const pending = (): number => Atomics.load(control, Cell.pending);
  if (stream.destroyed || stream.closed)
    return { drained: false, pending: pending(), reason: 'dead' };
  const startBy = Date.now() + Math.min(drainTimeout, startTimeout);
  while (Atomics.load(control, Cell.started) === 0) {
    if (Atomics.load(control, Cell.dead) === 1)
      return { drained: false, pending: pending(), reason: 'dead' };
    const left = startBy - Date.now();
    if (left <= 0) return { drained: false, pending: pending(), reason: 'stalled' };
    Atomics.wait(control, Cell.drained, Atomics.load(control, Cell.drained), Math.min(left, 50));
  }
  const target = ++handle.markers;
  try {
    stream.write(DRAIN_MARKER);
    stream.flushSync();
  } catch {
    return { drained: false, pending: pending(), reason: 'dead' };
  }
  const stalled =
    handle.gaveUpAt !== undefined && handle.gaveUpAt === Atomics.load(control, Cell.progress);
  return waitForDrain(control, target, stalled ? 0 : drainTimeout);
}

function reportUndrained(result: DrainResult, handle: TransportHandle, when: string): void {
  if (result.drained || result.pending === 0) return;
  const why =
    result.reason === 'dead'
      ? 'the transport worker had stopped'
      : `the destination took no data for ${handle.drainTimeout} ms (drainTimeout)`;
  reportProblem(`${result.pending} log lines were not written ${when}: ${why}`);
}

/** At exit, every live worker writes everything it holds before the process goes. */
function installExitHook(): void {
  if (registry.exitHooked) return;
  registry.exitHooked = true;
  process.on('exit', () => {
    for (const handle of registry.transports) {
      registry.transports.delete(handle);
      reportUndrained(drainSync(handle), handle, 'at exit');
    }
  });
}

/** The sink of a buffered (or syslog) format: a transport worker running this package's `transport` module. @internal */
export function transportSink(
  options: Omit<TransportOptions, 'control'>,
  resolved: { drainTimeout: number; transportWorker: string | undefined },
): Sink {
  const target = transportPath(resolved.transportWorker);
  const control = createControl();
  // pino's own exit hooks end the worker with thread-stream's end(), which gives up after about
  // ten seconds and would then kill a worker that is still writing; this module's exit hook
  // waits on shared memory instead, for as long as the destination takes data.
  const before = new Set(process.listeners('exit'));
  const stream = pino.transport<TransportOptions>({
    target,
    options: { ...options, control },
    worker: { autoEnd: false },
  }) as unknown as ThreadStreamLike;
  for (const listener of process.listeners('exit'))
    if (!before.has(listener)) process.removeListener('exit', listener);
  reportWorkerErrors(stream, control);
  const handle: TransportHandle = {
    stream,
    control,
    drainTimeout: resolved.drainTimeout,
    markers: 0,
  };
  registry.transports.add(handle);
  installExitHook();
  return {
    stream,
    level: 0,
    safe: true,
    flush: () => flushTransport(handle),
    close: () => {
      // The old worker writes what it holds before basicConfig returns (bounded like the exit).
      registry.transports.delete(handle);
      const result = drainSync(handle);
      reportUndrained(result, handle, 'when logging was reconfigured');
      if (result.drained) stream.end();
    },
  };
}

/**
 * flush() of a worker: writes a drain marker and polls the shared counters. It settles in every
 * case: once the worker wrote everything up to the marker, once the worker is gone (its failure
 * was reported on stderr), or once the destination took no data for `drainTimeout` ms (reported
 * with the number of lines still waiting). thread-stream's own flush(callback) is not used: it
 * keeps the worker referenced until the destination drains, so a process whose destination
 * stalled could not end after flush() gave up.
 */
function flushTransport(handle: TransportHandle): Promise<void> {
  const { stream, control, drainTimeout } = handle;
  return new Promise<void>((resolve) => {
    if (stream.destroyed || stream.closed) {
      resolve();
      return;
    }
    const target = ++handle.markers;
    try {
      stream.write(DRAIN_MARKER);
    } catch {
      resolve();
      return;
    }
    let progress = Atomics.load(control, Cell.progress);
    let idleSince = Date.now();
    const done = (): void => {
      clearInterval(watch);
      stream.off('close', done);
      resolve();
    };
    // Referenced on purpose: code after `await flush()` runs before the process may end.
    const watch = setInterval(() => {
      if (Atomics.load(control, Cell.drained) >= target || Atomics.load(control, Cell.dead) === 1) {
        done();
        return;
      }
      const current = Atomics.load(control, Cell.progress);
      const now = Date.now();
      if (current !== progress || Atomics.load(control, Cell.pending) === 0) {
        progress = current;
        idleSince = now;
      } else if (now - idleSince >= drainTimeout) {
        handle.gaveUpAt = current;
        reportProblem(
          `flush() stopped waiting: ${Atomics.load(control, Cell.pending)} log lines are still waiting for a destination that took no data for ${drainTimeout} ms (drainTimeout)`,
        );
        done();
      }
    }, 5);
    stream.once('close', done);
  });
}
