import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { getLogger, Statistic } from '@aiomisc/core';
import { PoolClosedError } from './errors/pool-closed-error';
import { WorkerExitedError } from './errors/worker-exited-error';
import { toReference, type FunctionReference, type FunctionTarget } from './function-reference';
import type { ChildMessage, ParentMessage } from './process-worker';
import { deserializeError, type SerializedError } from './serialize-error';
import { inheritedExecArgv } from './exec-argv';
import { PROCESS_WORKER_MARKER } from './wire';
import { uncloneableError } from './uncloneable';
import { workerFile } from './worker-file';

const log = getLogger('aiomisc.pool');

/**
 * The counters of a process pool, shared by {@link WorkerPoolStatistic} and
 * {@link ProcessPoolStatistic}, which differ only in their kind.
 */
export abstract class ForkCounters extends Statistic {
  /** Live processes (the Python's ProcessPoolStatistic always reports 0 here; this one counts). */
  processes = 0;
  /** Processes started, replacements included. */
  spawning = 0;
  /** Tasks submitted. */
  submitted = 0;
  /** Tasks finished (success + error). */
  done = 0;
  /** Tasks that returned. */
  success = 0;
  /** Tasks that threw, were aborted or lost their process. */
  error = 0;
  /** Total time from submit to result, in milliseconds. */
  sum_time = 0;
}

/** @internal */
export interface ForkPoolOptions {
  initializer?: FunctionReference;
  initializerArgs?: readonly unknown[];
  execArgv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  prefetch: number;
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
  member: Member | undefined;
  settled: boolean;
}

interface Member {
  child: ChildProcess;
  ready: boolean;
  /** Killed on purpose (an aborted task): replace it, give it nothing more. */
  retired: boolean;
  /** The aborted task it was killed for, while that task's result may still arrive. */
  killedFor: Job | undefined;
  /** Tasks sent to it, in order: the first one runs, the others wait in the child. */
  jobs: Job[];
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
 * Forked worker processes, each running one task at a time, async IPC (structured clone).
 * With `prefetch` > 0 a busy process is sent up to that many next tasks ahead (only when no
 * process is idle), so it never waits for the round trip; they stay cancellable until they
 * start. A process that dies fails only the task it was running (the tasks sent ahead go back
 * to the queue) and is replaced; an aborted running task kills its process.
 * @internal
 */
export class ForkPool {
  readonly size: number;
  readonly #options: ForkPoolOptions;
  readonly #members = new Set<Member>();
  #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #draining = false;
  #closing: Promise<void> | undefined;
  #failure: unknown;
  #settleWaiters: Array<() => void> = [];
  #readyWaiters: Array<() => void> = [];

  readonly #file: string;
  readonly #execArgv: readonly string[];

  constructor(size: number, options: ForkPoolOptions) {
    this.size = size;
    this.#options = options;
    this.#file = workerFile('process-worker');
    // Given flags are taken as they are; inherited ones lose what would run the parent's code.
    this.#execArgv = options.execArgv ?? inheritedExecArgv();
    installExitHook();
    livePools.add(this);
    for (let index = 0; index < size; index++) this.#spawn();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pids(): number[] {
    const pids: number[] = [];
    for (const member of this.#members)
      if (member.child.pid !== undefined) pids.push(member.child.pid);
    return pids;
  }

  /** Resolves once every process is ready (initializer done); rejects if the pool failed. */
  async ready(): Promise<void> {
    while (
      this.#failure === undefined &&
      !this.#closed &&
      [...this.#members].some((member) => !member.ready)
    ) {
      await new Promise<void>((resolve) => this.#readyWaiters.push(resolve));
    }
    if (this.#failure !== undefined) throw this.#failure as Error;
  }

  /** Runs `target(...args)` in a process; `target` is checked (a bad one throws at once). */
  submit(target: FunctionTarget, args: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    const { moduleUrl, name } = toReference('target', target);
    if (this.#closed)
      return Promise.reject(this.#failure ?? new PoolClosedError('process pool is closed'));
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
        member: undefined,
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
    const child = fork(this.#file, [PROCESS_WORKER_MARKER, String(process.pid)], {
      serialization: 'advanced',
      execArgv: [...this.#execArgv],
      env: this.#options.env ?? process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let onExit!: () => void;
    const member: Member = {
      child,
      ready: false,
      retired: false,
      killedFor: undefined,
      jobs: [],
      exited: new Promise<void>((resolve) => (onExit = resolve)),
    };
    this.#members.add(member);
    statistic.spawning++;
    statistic.processes = this.#members.size;
    child.on('message', (message: ChildMessage) => this.#onMessage(member, message));
    child.on('error', (error) => log.error({ err: error }, 'A pool process failed'));
    // Handled once the IPC channel is also gone, i.e. after every message the child sent has
    // been delivered, so the task it died in is known for sure. ('close' would say the same,
    // but never comes for a channel that was unref'd once.)
    child.on('exit', (exitCode: number | null, signalCode: NodeJS.Signals | null) => {
      if (child.connected)
        child.once('disconnect', () => this.#onDeath(member, exitCode, signalCode, onExit));
      else this.#onDeath(member, exitCode, signalCode, onExit);
    });
  }

  #onDeath(
    member: Member,
    exitCode: number | null,
    signalCode: NodeJS.Signals | null,
    onExit: () => void,
  ): void {
    const { child } = member;
    const statistic = this.#options.statistic;
    this.#members.delete(member);
    statistic.processes = this.#members.size;
    onExit();
    const [first, ...ahead] = member.jobs;
    member.jobs = [];
    const details = { pid: child.pid ?? null, exitCode, signalCode };
    // Killed while the aborted task still ran (no result came back before the channel
    // closed): the tasks sent ahead never started and can run elsewhere.
    const running = first === member.killedFor ? undefined : first;
    if (running) {
      running.member = undefined;
      this.#settle(
        running,
        false,
        new WorkerExitedError(
          `worker process ${child.pid} exited (code ${exitCode}, signal ${signalCode}) while running the task`,
          details,
        ),
        true,
      );
    }
    this.#requeue(ahead);
    if (this.#closed && !this.#draining) {
      this.#rejectQueued();
      return;
    }
    if (!member.ready && !member.retired) {
      this.#fail(
        new WorkerExitedError(
          `worker process ${child.pid} exited (code ${exitCode}, signal ${signalCode}) before it was ready`,
          details,
        ),
      );
      return;
    }
    this.#spawn();
    this.#dispatch();
  }

  #requeue(jobs: Job[]): void {
    if (jobs.length === 0) return;
    for (const job of jobs) job.member = undefined;
    this.#queue = [...jobs, ...this.#queue];
  }

  #onMessage(member: Member, message: ChildMessage): void {
    if (message[0] === 'r') {
      const index = member.jobs.findIndex((job) => job.id === message[1]);
      if (index === -1) return;
      const [job] = member.jobs.splice(index, 1);
      job!.member = undefined;
      if (member.jobs.length === 0) this.#idle(member);
      this.#settle(job!, message[2], message[3], false);
      this.#dispatch();
    } else if (message[0] === 'ready') {
      const { initializer, initializerArgs = [] } = this.#options;
      if (initializer) {
        member.child.send([
          'i',
          initializer.moduleUrl,
          initializer.name,
          [...initializerArgs],
        ] satisfies ParentMessage);
      } else {
        this.#markReady(member);
      }
    } else if (message[0] === 'i') {
      if (message[1]) this.#markReady(member);
      // As the Python does: a failing initializer fails every pending task and the pool.
      else this.#fail(deserializeError(message[2] as SerializedError));
    }
  }

  #markReady(member: Member): void {
    member.ready = true;
    this.#idle(member);
    for (const wake of this.#readyWaiters.splice(0)) wake();
    this.#dispatch();
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
    // Idle processes first. Tasks are sent ahead (prefetch) only when every process is ready
    // and busy: while one is idle or still starting, the next task waits for it instead, so a
    // fresh pool spreads its first tasks over all its processes.
    for (const member of this.#members) {
      if (this.#queue.length === 0) return;
      if (this.#accepts(member) && member.jobs.length === 0)
        this.#assign(member, this.#queue.shift()!);
    }
    if (this.#queue.length === 0 || this.#options.prefetch === 0) return;
    for (const member of this.#members)
      if (!member.retired && (!member.ready || member.jobs.length === 0)) return;
    const limit = 1 + this.#options.prefetch;
    for (let depth = 1; depth < limit && this.#queue.length > 0; depth++) {
      for (const member of this.#members) {
        if (this.#queue.length === 0) return;
        if (this.#accepts(member) && member.jobs.length === depth)
          this.#assign(member, this.#queue.shift()!);
      }
    }
  }

  #accepts(member: Member): boolean {
    return member.ready && !member.retired && member.child.connected;
  }

  #assign(member: Member, job: Job): void {
    const message: ParentMessage = ['t', job.id, job.moduleUrl, job.name, job.args as unknown[]];
    try {
      member.child.send(message, (error) => {
        if (!error || job.member !== member) return;
        // The write failed: the process is gone or going, and never got the task. It goes
        // back to the queue for another process; this one gets nothing more.
        member.retired = true;
        member.jobs.splice(member.jobs.indexOf(job), 1);
        this.#requeue([job]);
        this.#dispatch();
      });
    } catch (error) {
      // The arguments cannot be cloned (a function, a socket...): this task alone fails.
      this.#settle(job, false, uncloneableError('process', error), true);
      return;
    }
    member.jobs.push(job);
    job.member = member;
    if (member.jobs.length === 1) this.#busy(member);
  }

  #abort(job: Job): void {
    if (job.settled) return;
    const member = job.member;
    if (member && member.jobs[0] === job) {
      // A running task cannot be interrupted: kill its process. Which task the child was
      // running is only known once its channel closes: if the aborted task's result arrives
      // before that, the next task sent ahead may have started, and it fails instead of
      // running twice; otherwise the tasks sent ahead go back to the queue (see #onDeath).
      member.retired = true;
      member.killedFor = job;
      this.#settle(job, false, job.signal!.reason, true);
      member.child.kill('SIGKILL');
      return;
    } else if (member) {
      member.jobs.splice(member.jobs.indexOf(job), 1);
      if (member.child.connected) member.child.send(['c', job.id] satisfies ParentMessage);
    } else {
      const index = this.#queue.indexOf(job);
      if (index !== -1) this.#queue.splice(index, 1);
    }
    job.member = undefined;
    this.#settle(job, false, job.signal!.reason, true);
    this.#dispatch();
  }

  #settle(job: Job, ok: boolean, value: unknown, local: boolean): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort) job.signal!.removeEventListener('abort', job.onAbort);
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
    if (this.#settleWaiters.length > 0) for (const wake of this.#settleWaiters.splice(0)) wake();
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    for (const job of this.#queue.splice(0)) this.#settle(job, false, error, true);
    for (const wake of [...this.#settleWaiters.splice(0), ...this.#readyWaiters.splice(0)]) wake();
    void this.close(false);
  }

  #rejectQueued(): void {
    for (const job of this.#queue.splice(0))
      this.#settle(
        job,
        false,
        new PoolClosedError('process pool closed while the task was queued'),
        true,
      );
  }

  /** Kills every process at once (SIGKILL). Used at process exit. */
  killAll(): void {
    for (const member of this.#members) member.child.kill('SIGKILL');
  }

  /**
   * Closes the pool. `wait`: queued and running tasks finish first (Python's
   * `shutdown(wait=True)`); otherwise they reject with PoolClosedError. Processes get their
   * IPC channel closed (they exit), then SIGKILL after a second if still busy. Resolves once
   * every process has exited.
   */
  close(wait: boolean): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#draining = wait;
    if (!wait) this.#rejectQueued();
    for (const wake of this.#readyWaiters.splice(0)) wake();
    this.#closing = (async () => {
      const busy = (): boolean =>
        this.#queue.length > 0 || [...this.#members].some((member) => member.jobs.length > 0);
      while (this.#draining && this.#failure === undefined && busy()) {
        await new Promise<void>((resolve) => this.#settleWaiters.push(resolve));
      }
      this.#draining = false;
      this.#rejectQueued();
      const members = [...this.#members];
      for (const member of members) {
        const jobs = member.jobs;
        member.jobs = [];
        for (const job of jobs)
          this.#settle(
            job,
            false,
            new PoolClosedError('process pool closed while the task was running'),
            true,
          );
        // Held until it is gone, so the exit is observed even by an otherwise idle process.
        this.#busy(member);
        if (member.child.connected) member.child.disconnect();
        const timer = setTimeout(() => member.child.kill('SIGKILL'), 1000);
        void member.exited.finally(() => clearTimeout(timer));
      }
      await Promise.all(members.map((member) => member.exited));
      livePools.delete(this);
    })();
    return this.#closing;
  }
}
