import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  Entrypoint,
  expectNumber,
  expectOneOf,
  getLogger,
  Service,
  setLongTimeout,
} from '@aiomisc/core';
import type { EntrypointSignalPayload, LongTimeout } from '@aiomisc/core';

/** Options of {@link SDWatchdogService}. */
export interface SDWatchdogServiceOptions {
  /** The notify socket path (`@` = abstract namespace). @default process.env.NOTIFY_SOCKET */
  notifySocket?: string;
  /**
   * The watchdog timeout in ms; `WATCHDOG=1` is sent every half of it. When it differs from
   * `WATCHDOG_USEC`, `WATCHDOG_USEC=` is sent to systemd first.
   * @default WATCHDOG_USEC / 1000 (no watchdog pings without it)
   */
  watchdogInterval?: number;
  /**
   * How datagrams are sent: a long-lived `python3` helper (one process for the service's
   * life), or one `systemd-notify` run per message. @default 'auto' (python3 if on PATH)
   */
  sender?: 'auto' | 'python3' | 'systemd-notify';
}

const log = getLogger('aiomisc.sdwatchdog');

// One datagram per stdin line; a leading @ is the abstract namespace.
const HELPER = `
import os, socket, sys
address = sys.argv[1]
if address.startswith('@'):
    address = '\\0' + address[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
while True:
    line = sys.stdin.readline()
    if not line:
        break
    try:
        sock.sendto(line.rstrip('\\n').encode(), address)
    except OSError as error:
        sys.stderr.write('%s\\n' % error)
        sys.stderr.flush()
`;

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Talks to systemd's notify socket (the seed's `SDWatchdogService`): `STATUS=` lines while
 * starting and stopping, `READY=1` once the entrypoint has started, `WATCHDOG=1` every half of
 * `WATCHDOG_USEC`, and `STOPPING=1` when the entrypoint stops. Without `NOTIFY_SOCKET` it is
 * silently inactive (one debug line). Node has no unix datagram sockets, so the datagrams are
 * sent by a small helper process; the unit needs `NotifyAccess=all` (systemd accepts notify
 * messages only from the main pid otherwise).
 *
 * @example
 * ```ts
 * await entrypoint({ services: [new SDWatchdogService(), new Api()] }).start();
 * ```
 */
export class SDWatchdogService extends Service<SDWatchdogServiceOptions> {
  #helper: ChildProcess | undefined;
  #send: ((line: string) => void) | undefined;
  #timer: LongTimeout | undefined;
  #stoppingSent = false;
  #drain: (() => Promise<void>) | undefined;
  readonly #interval: number | undefined;
  readonly #socket: string | undefined;
  readonly #sender: 'auto' | 'python3' | 'systemd-notify';

  constructor(options: SDWatchdogServiceOptions = {}) {
    super(options);
    this.#socket = this.options.notifySocket ?? process.env.NOTIFY_SOCKET;
    this.#sender = expectOneOf('sender', this.options.sender ?? 'auto', [
      'auto',
      'python3',
      'systemd-notify',
    ]);
    const usec = process.env.WATCHDOG_USEC;
    const watchdogPid = process.env.WATCHDOG_PID;
    const forUs = watchdogPid === undefined || Number(watchdogPid) === process.pid;
    const fromEnvironment = usec !== undefined && forUs ? Number(usec) / 1000 : undefined;
    this.#interval =
      this.options.watchdogInterval === undefined
        ? fromEnvironment !== undefined && fromEnvironment > 0
          ? fromEnvironment
          : undefined
        : expectNumber('watchdogInterval', this.options.watchdogInterval, { min: 2 });
  }

  /** True while a notify socket is in use. */
  get isActive(): boolean {
    return this.#send !== undefined;
  }

  readonly #onPostStart = ({ services }: EntrypointSignalPayload): void => {
    if (!services.includes(this)) return;
    this.notify(`STATUS=Started ${services.length} services`);
    this.notify('READY=1');
  };

  readonly #onPreStop = ({ services }: EntrypointSignalPayload): void => {
    if (!services.includes(this)) return;
    this.notify(`STATUS=Stopping ${services.length} services`);
    this.#stopping();
  };

  override async start(): Promise<void> {
    const socket = this.#socket;
    if (!socket) {
      log.debug('NOTIFY_SOCKET is not set: not running under systemd, watchdog inactive');
      return;
    }
    this.#stoppingSent = false;
    this.#send = this.#openSender(socket);
    this.notify('STATUS=Starting');
    Entrypoint.POST_START.connect(this.#onPostStart);
    Entrypoint.PRE_STOP.connect(this.#onPreStop);
    if (!this.entrypoint) this.notify('READY=1');
    const interval = this.#interval;
    if (interval !== undefined) {
      const fromEnvironment = Number(process.env.WATCHDOG_USEC) / 1000;
      if (interval !== fromEnvironment) this.notify(`WATCHDOG_USEC=${Math.round(interval * 1000)}`);
      const tick = () => {
        this.notify('WATCHDOG=1');
        this.#timer = setLongTimeout(tick, interval / 2);
      };
      this.#timer = setLongTimeout(tick, interval / 2);
    }
  }

  override async stop(): Promise<void> {
    Entrypoint.POST_START.disconnect(this.#onPostStart);
    Entrypoint.PRE_STOP.disconnect(this.#onPreStop);
    this.#timer?.clear();
    this.#timer = undefined;
    if (!this.#send) return;
    this.#stopping();
    this.#send = undefined;
    await this.#drain?.();
    this.#drain = undefined;
    const helper = this.#helper;
    this.#helper = undefined;
    if (helper && helper.exitCode === null) {
      const exited = new Promise((resolve) => helper.once('exit', resolve));
      helper.stdin?.end();
      const timer = setLongTimeout(() => helper.kill('SIGKILL'), 2000);
      await exited;
      timer.clear();
    }
  }

  /** Sends one `KEY=value` message (newlines are not allowed in a value and become spaces). */
  notify(message: string): void {
    this.#send?.(message.replace(/\n/g, ' '));
  }

  #stopping(): void {
    if (this.#stoppingSent) return;
    this.#stoppingSent = true;
    this.notify('STOPPING=1');
  }

  #openSender(socket: string): (line: string) => void {
    const usePython = this.#sender === 'python3' || (this.#sender === 'auto' && onPath('python3'));
    if (!usePython) {
      log.debug('sending notify messages with systemd-notify');
      // One run per message, one after another, so the messages keep their order.
      let previous = Promise.resolve();
      this.#drain = () => previous;
      return (line) => {
        previous = previous.then(
          () =>
            new Promise<void>((resolve) => {
              const child = spawn('systemd-notify', [line], {
                stdio: ['ignore', 'ignore', 'pipe'],
                env: { ...process.env, NOTIFY_SOCKET: socket },
              });
              child.once('error', (error) => {
                log.warn(`systemd-notify failed: ${error.message}`);
                resolve();
              });
              child.once('exit', () => resolve());
              child.stderr?.on('data', (chunk: Buffer) =>
                log.warn(`systemd-notify: ${chunk.toString().trim()}`),
              );
            }),
        );
      };
    }
    const helper = spawn('python3', ['-u', '-c', HELPER, socket], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    helper.on('error', (error) => log.warn(`the notify helper (python3) failed: ${error.message}`));
    helper.stderr?.on('data', (chunk: Buffer) =>
      log.warn(`notify socket ${socket}: ${chunk.toString().trim()}`),
    );
    helper.stdin?.on('error', () => undefined);
    this.#helper = helper;
    return (line) => {
      if (helper.stdin?.writable) helper.stdin.write(`${line}\n`);
    };
  }
}
