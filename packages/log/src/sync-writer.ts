import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DestinationStream } from 'pino';
import { describeError, reportProblem, sleepSync } from './report';

/**
 * The destination of unbuffered mode: each record is handed to the kernel before the logging
 * call returns (`fs.writeSync`), like sonic-boom with `sync: true`, with two differences that
 * matter in production:
 * - a full non-blocking pipe (EAGAIN: the stderr of a service under Docker or systemd, or
 *   `node app | tee`) is retried after 20 µs, backing off to 1 ms, not sonic-boom's 100 ms, so logging to a pipe runs
 *   at the reader's speed instead of about 4,000 lines/s; a reader that takes nothing for
 *   `stallTimeout` ms makes the writer drop records (reported once) until it reads again;
 * - every other error (ENOSPC from `2>/dev/full`, EPIPE, EBADF, EIO) is reported once on stderr
 *   and the record is dropped: it never throws out of a logging call and never emits an
 *   unhandled `error` event. Later records are tried again.
 * @internal
 */
export class SyncWriter implements DestinationStream {
  readonly #fd: number;
  readonly #owned: boolean;
  readonly #name: string;
  readonly #stallTimeout: number;
  #stalled = false;
  #reportedError = false;
  #reportedStall = false;
  /** Records dropped because the destination failed or stalled. */
  dropped = 0;

  constructor(destination: number | string, stallTimeout: number) {
    this.#name = typeof destination === 'number' ? `file descriptor ${destination}` : destination;
    this.#stallTimeout = stallTimeout;
    if (typeof destination === 'number') {
      this.#fd = destination;
      this.#owned = false;
    } else {
      mkdirSync(dirname(destination), { recursive: true });
      this.#fd = openSync(destination, 'a');
      this.#owned = true;
    }
  }

  write(line: string): void {
    let written: number;
    try {
      written = writeSync(this.#fd, line);
    } catch (error) {
      this.#failed(error as NodeJS.ErrnoException, Buffer.from(line), 0);
      return;
    }
    if (written === Buffer.byteLength(line)) {
      this.#stalled = false;
      return;
    }
    this.#writeRest(Buffer.from(line), written);
  }

  /** A partial write or EAGAIN: keep writing the rest, retrying every millisecond. */
  #writeRest(data: Buffer, offset: number): void {
    let idleSince = Date.now();
    // A full pipe usually has room again within microseconds (the reader is fast, the writer
    // just got ahead): retry soon, backing off to 1 ms while it stays full.
    let pause = 0.02;
    while (offset < data.length) {
      try {
        const written = writeSync(this.#fd, data, offset, data.length - offset);
        if (written > 0) {
          offset += written;
          idleSince = Date.now();
          pause = 0.02;
          this.#stalled = false;
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN') {
          this.#failed(error as NodeJS.ErrnoException, data, offset);
          return;
        }
        // A destination that already stalled is not waited for again until it takes data.
        if (this.#stalled || Date.now() - idleSince >= this.#stallTimeout) {
          this.#stall();
          return;
        }
        sleepSync(pause);
        pause = Math.min(1, pause * 2);
      }
    }
  }

  #failed(error: NodeJS.ErrnoException, data: Buffer, offset: number): void {
    if (error.code === 'EAGAIN') {
      this.#writeRest(data, offset);
      return;
    }
    this.dropped++;
    if (this.#reportedError) return;
    this.#reportedError = true;
    reportProblem(
      `writing log records to ${this.#name} failed (${describeError(error)}); those records are lost, later ones are still written (reported once)`,
    );
  }

  #stall(): void {
    this.#stalled = true;
    this.dropped++;
    if (this.#reportedStall) return;
    this.#reportedStall = true;
    reportProblem(
      `${this.#name} took no data for ${this.#stallTimeout} ms; records are dropped until it takes data again (reported once)`,
    );
  }

  flushSync(): void {
    // every record is in the kernel when write() returns
  }

  close(): void {
    if (!this.#owned) return;
    try {
      closeSync(this.#fd);
    } catch {
      // nothing left to do with it
    }
  }
}
