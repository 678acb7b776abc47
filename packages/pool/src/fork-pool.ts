import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { getLogger } from '@aiomisc/core';
import { PoolClosedError } from './errors/pool-closed-error';
import { WorkerExitedError } from './errors/worker-exited-error';
import type { FunctionReference } from './function-reference';
import type { ChildMessage, ParentMessage } from './process-worker';
import { deserializeError, type SerializedError } from './serialize-error';
import { workerFile } from './worker-file';

const log = getLogger('aiomisc.pool');

/** The counters a fork pool updates. @internal */
export interface ForkCounters {
  processes: number;
  spawning: number;
  submitted: number;
  done: number;
  success: number;
  error: number;
  sum_time: number;
}

/** @internal */
export interface ForkPoolOptions {
  initializer?: FunctionReference;
  initializerArgs?: readonly unknown[];
  execArgv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  statistic: ForkCounters;
}

interface Job {
  id: number;
  moduleUrl: string;
  name: string;
  args: readonly unknown[];
  started: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  worker: Member | undefined;
  settled: boolean;
}

interface Member {
  child: ChildProcess;
  ready: boolean;
  /** Killed on purpose (an aborted task): replace it, take no task. */
  retired: boolean;
  job: Job | undefined;
  exited: Promise<void>;
}

const livePools = new Set<ForkPool>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: no child outlives this process, even if a pool was never closed.
  process.on('exit', () => {
    for (const pool of livePools) pool.killAll();
  });
}

/**
 * Forked worker processes, one task per process at a time, async IPC (structured clone).
 * A process that dies fails only its own task and is replaced; an aborted running task kills
 * its process. Idle processes are unref'd, so a forgotten pool does not keep the parent alive.
 * @internal
 */
export class ForkPool {
  readonly size: number;
  readonly #options: ForkPoolOptions;
  readonly #members = new Set<Member>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #draining = false;
  #closing: Promise<void> | undefined;
  #failure: unknown;

  constructor(size: number, options: ForkPoolOptions) {
    this.size = size;
    this.#options = options;
    installExitHook();
    livePools.add(this);
    for (let index = 0; index < size; index++) this.#spawn();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pids(): number[] {
    const pids: number[] = [];
    for (const member of this.#members) if (member.child.pid !== undefined) pids.push(member.child.pid);
    return pids;
  }

  /** Resolves once every process is ready (initializer done). */
  async ready(): Promise<void> {
    while (!this.#closed && [...this.#members].some((member) => !member.ready)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (this.#failure !== undefined) throw this.#failure as Error;
  }

  submit(moduleUrl: string, name: string, args: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#failure ?? new PoolClosedError('process pool is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const statistic = this.#options.statistic;
    statistic.submitted++;
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++,
        moduleUrl,
        name,
        args,
        started: performance.now(),
        resolve,
        reject,
        signal,
        onAbort: undefined,
        worker: undefined,
        settled: false,
      };
      if (signal) {
        job.onAbort = () => this.#abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  #spawn(): void {
    const statistic = this.#options.statistic;
    const child = fork(workerFile('process-worker'), [], {
      serialization: 'advanced',
      execArgv: [...(this.#options.execArgv ?? process.execArgv)],
      env: this.#options.env ?? process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let onExit!: () => void;
    const member: Member = {
      child,
      ready: false,
      retired: false,
      job: undefined,
      exited: new Promise<void>((resolve) => (onExit = resolve)),
    };
    this.#members.add(member);
    statistic.spawning++;
    statistic.processes = this.#members.size;
    child.on('message', (message: ChildMessage) => this.#onMessage(member, message));
    child.on('error', (error) => log.error({ err: error }, 'A pool process failed'));
    child.on('exit', (exitCode, signalCode) => {
      this.#members.delete(member);
      statistic.processes = this.#members.size;
      onExit();
      const job = member.job;
      member.job = undefined;
      if (job) {
        this.#settle(job, false, new WorkerExitedError(`worker process ${child.pid} exited (code ${exitCode}, signal ${signalCode}) while running the task`, {
          pid: child.pid ?? null,
          exitCode,
          signalCode,
        }), true);
      }
      if (this.#closed && !this.#draining) return;
      if (!member.ready && !member.retired) {
        this.#fail(new WorkerExitedError(`worker process ${child.pid} exited (code ${exitCode}, signal ${signalCode}) before it was ready`, {
          pid: child.pid ?? null,
          exitCode,
          signalCode,
        }));
        return;
      }
      this.#spawn();
    });
  }

  #onMessage(member: Member, message: ChildMessage): void {
    if (message[0] === 'r') {
      const job = member.job;
      if (!job || job.id !== message[1]) return;
      member.job = undefined;
      this.#idle(member);
      this.#settle(job, message[2], message[3], false);
      this.#dispatch();
    } else if (message[0] === 'ready') {
      const { initializer, initializerArgs = [] } = this.#options;
      if (initializer) {
        member.child.send(['i', initializer.moduleUrl, initializer.name, [...initializerArgs]] satisfies ParentMessage);
      } else {
        member.ready = true;
        this.#idle(member);
        this.#dispatch();
      }
    } else if (message[0] === 'i') {
      if (message[1]) {
        member.ready = true;
        this.#idle(member);
        this.#dispatch();
      } else {
        // As the Python does: a failing initializer fails every pending task and the pool.
        this.#fail(deserializeError(message[2] as SerializedError));
      }
    }
  }

  #idle(member: Member): void {
    member.child.unref();
    (member.child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  #busy(member: Member): void {
    member.child.ref();
    (member.child.channel as { ref?: () => void } | undefined)?.ref?.();
  }

  #dispatch(): void {
    if (this.#queue.length === 0) return;
    for (const member of this.#members) {
      if (!member.ready || member.retired || member.job || !member.child.connected) continue;
      const job = this.#queue.shift();
      if (!job) return;
      member.job = job;
      job.worker = member;
      this.#busy(member);
      member.child.send(['t', job.id, job.moduleUrl, job.name, job.args as unknown[]] satisfies ParentMessage, (error) => {
        if (error && member.job === job) {
          member.job = undefined;
          this.#idle(member);
          this.#settle(job, false, error, true);
          this.#dispatch();
        }
      });
      if (this.#queue.length === 0) return;
    }
  }

  #abort(job: Job): void {
    if (job.settled) return;
    const member = job.worker;
    if (member && member.job === job) {
      // A running task cannot be interrupted: kill its process (the exit handler replaces it).
      member.job = undefined;
      member.retired = true;
      member.child.kill('SIGKILL');
    } else {
      const index = this.#queue.indexOf(job);
      if (index !== -1) this.#queue.splice(index, 1);
    }
    this.#settle(job, false, job.signal!.reason, true);
  }

  #settle(job: Job, ok: boolean, value: unknown, local: boolean): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort) job.signal!.removeEventListener('abort', job.onAbort);
    for (const wake of this.#settleWaiters.splice(0)) wake();
    const statistic = this.#options.statistic;
    statistic.done++;
    statistic.sum_time += performance.now() - job.started;
    if (ok) {
      statistic.success++;
      job.resolve(value);
    } else {
      statistic.error++;
      job.reject(local ? value : deserializeError(value as SerializedError));
    }
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    for (const wake of this.#settleWaiters.splice(0)) wake();
    for (const job of this.#queue.splice(0)) this.#settle(job, false, error, true);
    void this.close(false);
  }

  /** Kills every process at once (SIGKILL). Used at process exit. */
  killAll(): void {
    for (const member of this.#members) member.child.kill('SIGKILL');
  }

  /**
   * Closes the pool. `wait`: running tasks finish first; otherwise they reject with
   * PoolClosedError. Processes get their IPC channel closed (they exit), then SIGKILL after a
   * second if they are still busy. Resolves once every process has exited.
   */
  close(wait: boolean): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    if (!wait) this.#rejectQueued();
    this.#closing = (async () => {
      // Waiting: queued tasks still run (Python's shutdown(wait=True)), on the live processes.
      this.#draining = wait;
      while (this.#draining && this.#failure === undefined && (this.#queue.length > 0 || [...this.#members].some((member) => member.job))) {
        await this.#nextSettle();
      }
      this.#draining = false;
      this.#rejectQueued();
      const members = [...this.#members];
      for (const member of members) {
        const job = member.job;
        if (job) this.#settle(job, false, new PoolClosedError('process pool closed while the task was running'), true);
        if (member.child.connected) member.child.disconnect();
        const timer = setTimeout(() => member.child.kill('SIGKILL'), 1000);
        void member.exited.finally(() => clearTimeout(timer));
      }
      await Promise.all(members.map((member) => member.exited));
      livePools.delete(this);
    })();
    return this.#closing;
  }

  #rejectQueued(): void {
    for (const job of this.#queue.splice(0)) this.#settle(job, false, new PoolClosedError('process pool closed while the task was queued'), true);
  }

  #settleWaiters: Array<() => void> = [];

  #nextSettle(): Promise<void> {
    return new Promise((resolve) => this.#settleWaiters.push(resolve));
  }
}
