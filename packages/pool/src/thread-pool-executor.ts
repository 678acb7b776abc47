import { performance } from 'node:perf_hooks';
import { MessageChannel, type ResourceLimits } from 'node:worker_threads';
import { defaultPoolSize, expectNumber, getLogger, Statistic } from '@aiomisc/core';
import { Piscina } from 'piscina';
import { captureContext } from './context-var';
import { PoolClosedError } from './errors/pool-closed-error';
import { WorkerExitedError } from './errors/worker-exited-error';
import { toReference, type FunctionTarget } from './function-reference';
import type { SubmitRest, TargetResult } from './target-types';
import { deserializeError, type SerializedError } from './serialize-error';
import { handleWaitRequest, isWaitRequest } from './sync-wait-coroutine';
import { RESULT, type PoolMessage, type TaskReply, type WireTask } from './wire';
import { isCloneable, isCloneError, uncloneableError } from './uncloneable';
import { checkPiscinaWorker, workerFile } from './worker-file';

const log = getLogger('aiomisc.pool');

/**
 * `new Piscina(options)`; in an ESM bundle without the `__dirname`/`require` banner piscina's
 * CommonJS code fails with a ReferenceError, which is turned into an error that says so.
 */
function newPiscina(options: ConstructorParameters<typeof Piscina>[0]): Piscina {
  try {
    return new Piscina(options);
  } catch (error) {
    if (error instanceof ReferenceError || /Dynamic require/.test(String(error))) {
      const wrapped = new Error(
        `piscina could not start (${(error as Error).message}): an ESM bundle needs a banner that defines require, __filename and __dirname (see the @aiomisc/pool README, "Bundling")`,
      );
      (wrapped as { cause?: unknown }).cause = error;
      throw wrapped;
    }
    throw error;
  }
}

/**
 * Counters of a {@link ThreadPoolExecutor}, named as in the Python `ThreadPoolStatistic`.
 *
 * @example
 * ```ts
 * new ThreadPoolExecutor(4, { statisticName: 'images' });
 * for (const { name, metric, value } of getStatistics('ThreadPoolStatistic')) console.log(name, metric, value);
 * ```
 */
export class ThreadPoolStatistic extends Statistic {
  readonly kind = 'ThreadPoolStatistic';
  /** Live worker threads. */
  threads = 0;
  /** Tasks submitted. */
  submitted = 0;
  /** Tasks finished (success + error). */
  done = 0;
  /** Tasks that returned. */
  success = 0;
  /** Tasks that threw, were aborted or lost their thread. */
  error = 0;
  /** Total time from submit to result, in milliseconds. */
  sum_time = 0;
}

/** Options of {@link ThreadPoolExecutor}. */
export interface ThreadPoolOptions {
  /** Name of the pool's statistic in `getStatistics()`. @default null */
  statisticName?: string | null;
  /**
   * Most tasks sent to one thread in one message. Larger batches cost less per task under
   * load; a task that runs long delays at most `maxBatch - 1` tasks sent with it.
   * @default 16
   */
  maxBatch?: number;
  /** Worker resource limits, passed to piscina. @default undefined */
  resourceLimits?: ResourceLimits;
}

/** Options of one submitted task. */
export interface SubmitOptions {
  /**
   * Cancels the task: a queued one is dropped, a running one has its thread terminated (and
   * replaced). The promise rejects with `signal.reason`. A task with a signal gets a thread to
   * itself, so terminating it harms no other task. @default undefined
   */
  signal?: AbortSignal;
}

/** A submitted task: its wire form, its submit time and how its caller learns the outcome. */
class PendingTask {
  settled = false;
  /** Answered by its thread's reply, its result still travelling on its own message. */
  awaitingResult = false;
  /** Index in the executor's list of lone tasks in flight, or -1 (the task is in its map). */
  slot = -1;
  /** Settlers of the promise from `wait()`, while someone waits on it. */
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((error: unknown) => void) | undefined = undefined;
  /** The outcome, kept when it came before anyone waited (a lone task's posted result). */
  ok = false;
  value: unknown = undefined;

  constructor(
    readonly wire: WireTask,
    readonly started: number,
  ) {}

  wait(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The kept outcome, as the value or rejection of a `then` callback. */
  outcome(): unknown {
    if (this.ok) return this.value;
    throw this.value;
  }
}

/**
 * A pool of worker threads built on piscina, running functions of the user's own modules
 * (imports and all) by {@link FunctionReference}. The entrypoint installs one as the default
 * pool (see {@link registerThreadPoolExtension}); `threaded` uses the default unless given one.
 *
 * Dispatch is pipelined: tasks queued in the same tick go to a thread in one message (at most
 * `maxBatch`), results come back one by one as each finishes. Each thread holds one batch at a
 * time, so a slow task delays only the rest of its own batch; later tasks go to the other
 * threads. A thread that dies fails only the task that was running; the rest of its batch is
 * sent again.
 *
 * @example
 * ```ts
 * await using pool = new ThreadPoolExecutor(4);
 * const digest = await pool.submit<string>({ moduleUrl: import.meta.url, name: 'sha256' }, ['data']);
 * ```
 */
export class ThreadPoolExecutor implements AsyncDisposable {
  /** Number of threads. */
  readonly size: number;
  readonly #piscina: Piscina;
  readonly #statistic: ThreadPoolStatistic;
  readonly #maxBatch: number;
  /** Queued, batched and abortable tasks by id, until settled. */
  readonly #tasks = new Map<number, PendingTask>();
  /** Lone tasks in flight (at most `size`; the sequential path keeps them out of the map). */
  readonly #lone: PendingTask[] = [];
  #queue: PendingTask[] = [];
  #head = 0;
  #inflight = 0;
  #scheduled = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #nextId = 1;
  /** Generators holding a thread; close() stops them (their threads are terminated). */
  readonly #exclusive = new Set<AbortController>();
  /**
   * Holds the event loop open while a result is still in flight after its thread's reply.
   * Piscina refs a thread while it holds a batch and unrefs it once the batch completes, but a
   * result that is not a primitive travels on another channel than that completion, and can
   * arrive after it: without this the process could exit with such a result pending. Ref'd only
   * while `#awaitingResults` > 0, so the usual call (a primitive result riding on the reply)
   * costs no ref/unref.
   */
  readonly #keepAlive = new MessageChannel().port1;
  #awaitingResults = 0;
  readonly #pumpLater = (): void => this.#pump();

  /**
   * @param size Number of threads. @default CPU count clamped to 4..32
   * @throws {@link InvalidArgumentError} for a size or maxBatch below 1.
   */
  constructor(size: number = defaultPoolSize(), options: ThreadPoolOptions = {}) {
    this.size = expectNumber('size', size, { min: 1, max: 1024, integer: true });
    this.#maxBatch = expectNumber('maxBatch', options.maxBatch ?? 16, { min: 1, integer: true });
    this.#statistic = new ThreadPoolStatistic(options.statisticName);
    const filename = workerFile('worker');
    checkPiscinaWorker();
    this.#piscina = newPiscina({
      filename,
      name: 'handleTask',
      minThreads: this.size,
      maxThreads: this.size,
      concurrentTasksPerWorker: 1,
      // The pool keeps its own statistics; piscina's run/wait histograms (two clock reads and
      // two histogram records per task) are not exposed.
      recordTiming: false,
      resourceLimits: options.resourceLimits,
    });
    this.#piscina.on('message', (message: unknown) => this.#onMessage(message));
    this.#piscina.on('error', (error: unknown) =>
      log.error({ err: error }, 'A pool thread failed'),
    );
    this.#piscina.on(
      'workerCreate',
      () => (this.#statistic.threads = this.#piscina.threads.length),
    );
    this.#piscina.on(
      'workerDestroy',
      () => (this.#statistic.threads = this.#piscina.threads.length),
    );
    this.#statistic.threads = this.#piscina.threads.length;
    this.#keepAlive.on('message', () => undefined);
    this.#keepAlive.unref();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Tasks waiting for a thread. */
  get queueSize(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Runs the function `target` names in a pool thread with `args` and resolves with its result.
   * The caller's {@link ContextVar} values travel with the task.
   * @throws {@link PoolClosedError} (rejects) after `close()`.
   * @throws {@link InvalidArgumentError} for a target that is not a reference.
   */
  submit<TResult = never, TTarget extends FunctionTarget = FunctionTarget>(
    target: TTarget,
    ...rest: SubmitRest<TTarget, SubmitOptions>
  ): Promise<TargetResult<TTarget, TResult>>;
  submit(
    target: FunctionTarget,
    args: readonly unknown[] = [],
    options: SubmitOptions = {},
  ): Promise<unknown> {
    const reference = toReference('target', target);
    return this.run(reference.moduleUrl, reference.name, args, options.signal);
  }

  /** `submit` with an already-normalised reference. @internal */
  run(
    moduleUrl: string,
    name: string,
    args: readonly unknown[],
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(new PoolClosedError('thread pool is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#nextId++;
    const context = captureContext();
    const wire: WireTask =
      context === undefined
        ? [id, moduleUrl, name, args as unknown[]]
        : [id, moduleUrl, name, args as unknown[], context];
    this.#statistic.submitted++;
    const task = new PendingTask(wire, performance.now());
    // An idle pool sends a lone task at once; otherwise the tasks of this tick are batched.
    if (
      !signal &&
      !this.#scheduled &&
      this.#inflight < this.size &&
      this.#head === this.#queue.length
    )
      return this.#sendOne(task);
    this.#tasks.set(id, task);
    const promise = task.wait();
    if (signal) {
      this.#runAbortable(task, signal);
    } else {
      this.#queue.push(task);
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(this.#pumpLater);
      }
    }
    return promise;
  }

  /**
   * Runs a generator task on a thread of its own (piscina gives an abortable task a thread to
   * itself); `controller` aborting terminates that thread.
   * @internal
   */
  runExclusive(
    message: PoolMessage,
    transferList: readonly unknown[],
    controller: AbortController,
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(new PoolClosedError('thread pool is closed'));
    this.#exclusive.add(controller);
    return this.#piscina
      .run(message, { signal: controller.signal, transferList: transferList as never })
      .finally(() => this.#exclusive.delete(controller));
  }

  #runAbortable(task: PendingTask, signal: AbortSignal): void {
    this.#piscina.run({ s: task.wire } satisfies PoolMessage, { signal }).then(
      (reply: TaskReply) => {
        this.#onReply(task, reply);
        if (!task.settled) this.#awaitResult(task);
      },
      (error: unknown) => {
        if (signal.aborted) this.#settle(task, false, signal.reason, true);
        else if (isCloneError(error))
          this.#settle(task, false, uncloneableError('thread', error), true);
        else setImmediate(() => this.#settle(task, false, this.#lost(error), true));
      },
    );
  }

  #lost(cause: unknown): unknown {
    if (this.#closed) return new PoolClosedError('thread pool closed while the task was queued');
    const error = new WorkerExitedError('the worker thread running the task exited', {});
    (error as { cause?: unknown }).cause = cause;
    return error;
  }

  /**
   * Sends one task as a batch of its own: the sequential path. The caller gets the promise
   * chained on piscina's (no promise of its own, no batch array, no map entry); a result
   * posted on its own message is kept on the task if it comes before the reply.
   */
  #sendOne(task: PendingTask): Promise<unknown> {
    this.#inflight++;
    task.slot = this.#lone.push(task) - 1;
    return this.#piscina.run(task.wire satisfies PoolMessage).then(
      (reply: TaskReply) => {
        this.#inflight--;
        if (this.#head < this.#queue.length) this.#pump();
        if (typeof reply !== 'object' || reply === null) {
          this.#count(task, true);
          return reply;
        }
        if ('e' in reply) {
          this.#count(task, false);
          throw deserializeError(reply.e);
        }
        if (task.settled) return task.outcome();
        this.#awaitResult(task);
        return task.wait();
      },
      (error: unknown) => {
        if (isCloneError(error) && !task.settled) {
          // Never sent: its own arguments could not be cloned.
          this.#inflight--;
          this.#count(task, false);
          if (this.#head < this.#queue.length) this.#pump();
          throw uncloneableError('thread', error);
        }
        const settled = task.settled;
        const promise = settled ? undefined : task.wait();
        setImmediate(() => this.#batchDone([task], error ?? new Error('batch failed')));
        return promise ?? task.outcome();
      },
    );
  }

  #pump(): void {
    this.#scheduled = false;
    while (this.#head < this.#queue.length && this.#inflight < this.size) {
      const free = this.size - this.#inflight;
      const waiting = this.#queue.length - this.#head;
      const count = Math.min(this.#maxBatch, Math.ceil(waiting / free));
      const batch = this.#queue.slice(this.#head, this.#head + count);
      this.#head += count;
      this.#inflight++;
      const message: PoolMessage = count === 1 ? batch[0]!.wire : batch.map((task) => task.wire);
      this.#piscina.run(message).then(
        (reply: TaskReply) => {
          this.#onReply(batch[batch.length - 1]!, reply);
          this.#batchDone(batch, undefined);
        },
        (error: unknown) =>
          setImmediate(() => this.#batchDone(batch, error ?? new Error('batch failed'))),
      );
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Settles the task a reply is about, unless its result was posted on its own message. */
  #onReply(task: PendingTask, reply: TaskReply): void {
    if (typeof reply !== 'object' || reply === null) this.#settle(task, true, reply, false);
    else if ('e' in reply) this.#settle(task, false, reply.e, false);
  }

  #batchDone(batch: PendingTask[], error: unknown): void {
    this.#inflight--;
    if (error === undefined) {
      for (const task of batch) if (!task.settled) this.#awaitResult(task);
    } else {
      const unanswered = batch.filter((task) => !task.settled);
      let culprit: PendingTask | undefined;
      let rest: PendingTask[];
      if (isCloneError(error)) {
        // The batch was never sent: the tasks whose arguments cannot be cloned fail, the
        // others go back to the queue (no thread died).
        rest = [];
        for (const task of unanswered) {
          if (isCloneable(task.wire)) rest.push(task);
          else this.#settle(task, false, uncloneableError('thread', error), true);
        }
        // None found (cannot happen, unless structuredClone and postMessage disagree): fail
        // them all rather than send the same batch forever.
        if (rest.length === unanswered.length) {
          for (const task of rest)
            this.#settle(task, false, uncloneableError('thread', error), true);
          rest = [];
        }
      } else {
        // Tasks run in order, so the first unanswered one is the task the thread died in; the
        // rest never started and go back to the front of the queue.
        [culprit, ...rest] = unanswered;
      }
      if (culprit) this.#settle(culprit, false, this.#lost(error), true);
      if (this.#closed) {
        for (const task of rest)
          this.#settle(task, false, new PoolClosedError('thread pool closed'), true);
      } else if (rest.length > 0) {
        const remaining = this.#queue.slice(this.#head);
        this.#queue = [...rest, ...remaining];
        this.#head = 0;
      }
    }
    if (this.#head < this.#queue.length) this.#pump();
  }

  /** Keeps the process alive until the result of an answered task arrives on its message. */
  #awaitResult(task: PendingTask): void {
    if (task.awaitingResult) return;
    task.awaitingResult = true;
    if (this.#awaitingResults++ === 0) this.#keepAlive.ref();
  }

  #onMessage(message: unknown): void {
    if (!Array.isArray(message)) return;
    if (message[0] === RESULT) {
      const id = message[1] as number;
      const task = this.#tasks.get(id) ?? this.#lone.find((lone) => lone.wire[0] === id);
      if (task) this.#settle(task, message[2] as boolean, message[3], false);
    } else if (isWaitRequest(message)) {
      handleWaitRequest(message);
    }
  }

  #settle(task: PendingTask, ok: boolean, value: unknown, local: boolean): void {
    if (task.settled) return;
    this.#count(task, ok);
    const outcome = ok || local ? value : deserializeError(value as SerializedError);
    if (task.resolve === undefined) {
      // A lone task whose result came before its thread's reply: the reply hands it over.
      task.ok = ok;
      task.value = outcome;
    } else if (ok) {
      task.resolve(outcome);
    } else {
      task.reject!(outcome);
    }
  }

  /** Marks a task settled: forgets it and counts it. */
  #count(task: PendingTask, ok: boolean): void {
    task.settled = true;
    if (task.slot < 0) {
      this.#tasks.delete(task.wire[0]);
    } else {
      const last = this.#lone.pop()!;
      if (last !== task) {
        this.#lone[task.slot] = last;
        last.slot = task.slot;
      }
      task.slot = -1;
    }
    if (task.awaitingResult && --this.#awaitingResults === 0) this.#keepAlive.unref();
    const statistic = this.#statistic;
    statistic.done++;
    statistic.sum_time += performance.now() - task.started;
    if (ok) statistic.success++;
    else statistic.error++;
  }

  /**
   * Stops accepting tasks, rejects the queued ones with {@link PoolClosedError}, waits for the
   * running ones and terminates the threads. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    const queued = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    for (const task of queued)
      this.#settle(
        task,
        false,
        new PoolClosedError('thread pool closed while the task was queued'),
        true,
      );
    for (const controller of this.#exclusive)
      controller.abort(new PoolClosedError('thread pool closed'));
    this.#closing = this.#piscina.close().finally(() => {
      this.#statistic.threads = 0;
      this.#keepAlive.close();
    });
    return this.#closing;
  }

  /** Same as {@link ThreadPoolExecutor.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
