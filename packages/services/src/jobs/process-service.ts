import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  AiomiscError,
  expectNumber,
  getLogger,
  InvalidArgumentError,
  Service,
  setLongTimeout,
} from '@aiomisc/core';
import type { Logger, LongTimeout } from '@aiomisc/core';
import { CHILD_MARKER, isChild, type ChildMessage, type ParentMessage } from './process-protocol';

/** Options of a {@link ProcessService}; the whole object is sent to the child (structured clone). */
export interface ProcessServiceOptions {
  /** The name in log lines. @default the class name */
  name?: string;
  /** How long stop() waits for the child after SIGTERM before SIGKILL, in ms. @default 3000 */
  processStopTimeout?: number;
  /** Node flags of the child. @default this process's flags (without -e/-p/--inspect*) */
  execArgv?: readonly string[];
  /** Environment of the child. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Options of a {@link RespawningProcessService}. */
export interface RespawningProcessServiceOptions extends ProcessServiceOptions {
  /** Pause before a child that exited is started again, in ms. @default 1000 */
  respawnDelay?: number;
  /** A child that exits sooner than this after its start is a quick failure, in ms. @default 10000 */
  quickFailureTime?: number;
  /** Give up respawning after this many quick failures in a row (logged). @default 5 */
  maxQuickFailures?: number;
}

const startErrorMarker: unique symbol = Symbol.for('aiomisc.error.ProcessStartError') as never;

/** A ProcessService child that could not start (module, export or constructor failed). */
export class ProcessStartError extends AiomiscError {
  private readonly [startErrorMarker] = true;
  constructor(message: string) {
    super(message);
    this.name = 'ProcessStartError';
  }

  static override isInstance(error: unknown): error is ProcessStartError {
    return typeof error === 'object' && error !== null && startErrorMarker in error;
  }
}

const INSPECT = /^--inspect(?:-brk|-wait)?(?:=.*)?$/;
const WITH_VALUE = new Set(['-e', '--eval', '-p', '--print', '-pe', '--input-type']);

function inheritedExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index++) {
    const flag = execArgv[index]!;
    const name = flag.split('=', 1)[0]!;
    if (WITH_VALUE.has(name)) {
      if (name === flag) index++;
      continue;
    }
    if (flag === '-i' || flag === '--interactive' || flag === '-c' || flag === '--check') continue;
    if (INSPECT.test(flag)) continue;
    kept.push(flag);
  }
  return kept;
}

/** The child entry next to this build; from the TypeScript sources (tests) it runs through tsx. */
function childEntry(): { file: string; extraArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return {
      file: fileURLToPath(new URL('./process-child.ts', here)),
      extraArgv: ['--import', 'tsx'],
    };
  }
  const extension = here.endsWith('.cjs') ? '.cjs' : '.js';
  return { file: fileURLToPath(new URL(`./process-child${extension}`, here)), extraArgv: [] };
}

interface Running {
  child: ChildProcess;
  startedAt: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stopping: boolean;
}

/**
 * Runs `inProcess()` in a child process (the seed's `ProcessService`). The class must be
 * exported from a module the child can import: set `static module = import.meta.url` (ESM) or
 * `__filename` (CJS) on it. The child gets the service's options (structured clone), its
 * stdout/stderr lines reach this process's log, and it ends when the service stops (SIGTERM,
 * SIGKILL after `processStopTimeout`) and when this process dies, even by SIGKILL. In the
 * child, `ProcessService.isChild` is true: guard the code that starts the parent with it when
 * the service lives in the main module.
 *
 * @example
 * ```ts
 * export class Miner extends ProcessService<{ coin: string }> {
 *   static override module = import.meta.url;
 *   inProcess() {
 *     mine(this.options.coin);
 *   }
 * }
 * if (!ProcessService.isChild) await run(main, { services: [new Miner({ coin: 'doge' })] });
 * ```
 */
export abstract class ProcessService<
  TOptions extends ProcessServiceOptions = ProcessServiceOptions,
> extends Service<TOptions> {
  /** The URL or path of the module that exports this class. Required: `import.meta.url`. */
  static module: string | undefined = undefined;
  /** The export name of this class in `module`. @default the class name */
  static exportName: string | undefined = undefined;

  /** True in a process started by a ProcessService. */
  static get isChild(): boolean {
    return isChild();
  }

  /** @internal */
  protected running: Running | undefined;
  /** @internal */
  protected readonly log: Logger;

  constructor(...options: Partial<TOptions> extends TOptions ? [TOptions?] : [TOptions]) {
    super(...(options as ConstructorParameters<typeof Service<TOptions>>));
    expectNumber('processStopTimeout', this.options.processStopTimeout ?? 3000, { min: 0 });
    const serviceClass = this.constructor as typeof ProcessService;
    if (!isChild() && typeof serviceClass.module !== 'string') {
      throw new InvalidArgumentError(
        `${serviceClass.name}.module`,
        serviceClass.module,
        'the URL or path of the module that exports the class (static module = import.meta.url)',
      );
    }
    this.log = getLogger(`aiomisc.process.${this.options.name ?? serviceClass.name}`);
  }

  /** The work done in the child process. Returning (or throwing) ends the child. */
  abstract inProcess(): unknown;

  /** The pid of the running child, if any. */
  get pid(): number | undefined {
    return this.running?.child.pid;
  }

  /** Starts the child and resolves once it imported the module and built the service. */
  override async start(): Promise<void> {
    await this.spawnChild();
  }

  /** Stops the child: SIGTERM, then SIGKILL after `processStopTimeout`; waits for its exit. */
  override async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.stopping = true;
    await this.terminate(running);
  }

  /** @internal called when the child exits on its own (not at stop). */
  protected onUnexpectedExit(code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal ? `by ${signal}` : `with code ${code}`;
    if (code === 0) this.log.info(`child exited ${how}`);
    else this.log.warn(`child exited ${how}`);
  }

  /** @internal */
  protected async spawnChild(): Promise<Running> {
    const serviceClass = this.constructor as typeof ProcessService;
    const { file, extraArgv } = childEntry();
    const execArgv = [...(this.options.execArgv ?? inheritedExecArgv(process.execArgv))];
    if (!execArgv.some((flag) => flag === 'tsx' || /[\\/]tsx[\\/]dist[\\/]/.test(flag))) {
      execArgv.push(...extraArgv);
    }
    const child = fork(file, [CHILD_MARKER, String(process.pid)], {
      execArgv,
      env: this.options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    child.on('error', (error) => this.log.error({ err: error }, 'child process error'));
    const pid = child.pid;
    const lastErrors: string[] = [];
    const forward = (stream: NodeJS.ReadableStream | null, level: 'info' | 'warn') => {
      if (!stream) return;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        if (level === 'warn' && lastErrors.push(line) > 5) lastErrors.shift();
        this.log[level]({ pid }, line);
      });
    };
    forward(child.stdout, 'info');
    forward(child.stderr, 'warn');
    const running: Running = { child, startedAt: Date.now(), exited, stopping: false };
    this.running = running;

    const message: ParentMessage = {
      module: serviceClass.module!,
      exportName: serviceClass.exportName ?? serviceClass.name,
      options: this.options,
    };
    const answer = new Promise<ChildMessage>((resolve, reject) => {
      child.once('message', (reply: ChildMessage) => resolve(reply));
      void exited.then(({ code, signal }) =>
        reject(
          new ProcessStartError(
            `${serviceClass.name}: the child exited ${signal ? `by ${signal}` : `with code ${code}`} before it started${lastErrors.length > 0 ? `:\n${lastErrors.join('\n')}` : ''}`,
          ),
        ),
      );
    });
    answer.catch(() => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        child.send(message, (error) => (error ? reject(error) : resolve()));
      });
      const reply = await answer;
      if (reply.type === 'failed') {
        throw new ProcessStartError(
          `${serviceClass.name}: the child could not start: ${reply.error}`,
        );
      }
    } catch (error) {
      running.stopping = true;
      await this.terminate(running);
      throw error;
    }
    void exited.then(({ code, signal }) => {
      if (this.running === running) this.running = undefined;
      if (!running.stopping) this.onUnexpectedExit(code, signal);
    });
    return running;
  }

  /** @internal */
  protected async terminate(running: Running): Promise<void> {
    const { child } = running;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer: LongTimeout | undefined;
      const killed = await Promise.race([
        running.exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setLongTimeout(() => resolve(true), this.options.processStopTimeout ?? 3000);
        }),
      ]);
      timer?.clear();
      if (killed) {
        this.log.warn(`child ${child.pid} did not stop in time; killing it`);
        child.kill('SIGKILL');
      }
    }
    await running.exited;
    if (this.running === running) this.running = undefined;
  }
}

/**
 * A {@link ProcessService} whose child is started again when it exits on its own (the seed's
 * `RespawningProcessService`), after `respawnDelay`. A child that exits within
 * `quickFailureTime` of its start is a quick failure; after `maxQuickFailures` of them in a row
 * it gives up, logging an error, and the service stays up without a child.
 *
 * @example
 * ```ts
 * export class Worker extends RespawningProcessService {
 *   static override module = import.meta.url;
 *   inProcess() {
 *     consumeQueue();
 *   }
 * }
 * ```
 */
export abstract class RespawningProcessService<
  TOptions extends RespawningProcessServiceOptions = RespawningProcessServiceOptions,
> extends ProcessService<TOptions> {
  #quickFailures = 0;
  #respawnTimer: LongTimeout | undefined;
  #stopped = false;
  #respawning: Promise<unknown> | undefined;
  /** How many times a child was started again. */
  respawns = 0;

  constructor(...options: Partial<TOptions> extends TOptions ? [TOptions?] : [TOptions]) {
    super(...options);
    expectNumber('respawnDelay', this.options.respawnDelay ?? 1000, { min: 0 });
    expectNumber('quickFailureTime', this.options.quickFailureTime ?? 10_000, { min: 0 });
    expectNumber('maxQuickFailures', this.options.maxQuickFailures ?? 5, {
      min: 1,
      integer: true,
      allowInfinity: true,
    });
  }

  override async start(): Promise<void> {
    this.#stopped = false;
    this.#quickFailures = 0;
    await super.start();
  }

  override async stop(): Promise<void> {
    this.#stopped = true;
    this.#respawnTimer?.clear();
    this.#respawnTimer = undefined;
    await this.#respawning;
    await super.stop();
  }

  protected override onUnexpectedExit(code: number | null, signal: NodeJS.Signals | null): void {
    const { respawnDelay = 1000, quickFailureTime = 10_000, maxQuickFailures = 5 } = this.options;
    const startedAt = this.#lastStart ?? 0;
    const how = signal ? `by ${signal}` : `with code ${code}`;
    if (Date.now() - startedAt < quickFailureTime) this.#quickFailures++;
    else this.#quickFailures = 0;
    if (this.#stopped) return;
    if (this.#quickFailures >= maxQuickFailures) {
      this.log.error(
        `child exited ${how}; giving up after ${this.#quickFailures} quick failures in a row (each within ${quickFailureTime} ms of its start)`,
      );
      return;
    }
    this.log.warn(`child exited ${how}; respawning in ${respawnDelay} ms`);
    this.#respawnTimer = setLongTimeout(() => {
      this.#respawnTimer = undefined;
      if (this.#stopped) return;
      this.respawns++;
      const respawning: Promise<unknown> = this.spawnChild()
        .catch((error: unknown) => {
          this.log.error({ err: error }, 'respawn failed');
          this.onUnexpectedExit(1, null);
        })
        .finally(() => {
          if (this.#respawning === respawning) this.#respawning = undefined;
        });
      this.#respawning = respawning;
    }, respawnDelay);
  }

  #lastStart: number | undefined;

  protected override async spawnChild(): Promise<Running> {
    this.#lastStart = Date.now();
    return super.spawnChild();
  }
}
