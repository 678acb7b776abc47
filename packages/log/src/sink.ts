import type { DestinationStream } from 'pino';

/** One output of the process: the format's destination or a handler. @internal */
export interface Sink {
  stream: DestinationStream;
  /** pino numeric level below which this sink skips a record. */
  level: number;
  /** True when `stream.write` never throws (this package's writers, pino's thread-stream). */
  safe: boolean;
  /** Set once a throwing handler was reported. */
  reported?: boolean;
  flush(): Promise<void>;
  close(): void;
}

/** What pino.transport() returns (thread-stream), as far as this package uses it. @internal */
export interface ThreadStreamLike extends DestinationStream {
  readonly closed: boolean;
  readonly destroyed: boolean;
  on(event: 'error', listener: (error: Error) => void): void;
  once(event: 'close', listener: () => void): void;
  off(event: 'close', listener: () => void): void;
  flushSync(): void;
  flush(callback: (error?: Error) => void): void;
  end(): void;
}
