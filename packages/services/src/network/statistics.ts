import { Statistic } from '@aiomisc/core';

/**
 * Counters of one TCP or TLS server ({@link TCPServer}, {@link TLSServer}). Bytes are added when a
 * connection closes (reading a socket's byte counters is cheap then, and costs nothing per chunk).
 *
 * @example
 * ```ts
 * getStatistics('TCPServerStatistic'); // [{ kind: 'TCPServerStatistic', name: 'echo', metric: 'accepted', value: 3 }, ...]
 * ```
 */
export class TCPServerStatistic extends Statistic {
  readonly kind: string = 'TCPServerStatistic';
  /** Connections accepted (for TLS: TCP connections, before the handshake). */
  accepted = 0;
  /** Connections open now. */
  open = 0;
  /** Connections closed. */
  closed = 0;
  /** Handlers that threw or rejected, and socket errors (resets, broken pipes). */
  errors = 0;
  /** TLS handshakes that failed (refused client certificates, garbage, resets mid-handshake). */
  handshake_errors = 0;
  /** Connections destroyed at the stop deadline. */
  destroyed = 0;
  /** Bytes read from closed connections. */
  bytes_in = 0;
  /** Bytes written to closed connections. */
  bytes_out = 0;
}

/** Counters of one {@link TLSServer}: those of {@link TCPServerStatistic}. */
export class TLSServerStatistic extends TCPServerStatistic {
  override readonly kind: string = 'TLSServerStatistic';
}

/**
 * Counters of one {@link UDPServer}.
 *
 * @example
 * ```ts
 * getStatistics('UDPServerStatistic');
 * ```
 */
export class UDPServerStatistic extends Statistic {
  readonly kind: string = 'UDPServerStatistic';
  /** Datagrams received. */
  received = 0;
  /** Datagrams sent through `send()`. */
  sent = 0;
  /** Handlers that threw or rejected, failed sends, socket errors. */
  errors = 0;
  /** Bytes received. */
  bytes_in = 0;
  /** Bytes sent. */
  bytes_out = 0;
}

/**
 * Counters of one TCP or TLS client ({@link TCPClient}, {@link RobustTCPClient} and their TLS twins).
 *
 * @example
 * ```ts
 * getStatistics('RobustTCPClientStatistic'); // connects, reconnects, failures, ...
 * ```
 */
export class TCPClientStatistic extends Statistic {
  readonly kind: string;
  /** Connections made. */
  connects = 0;
  /** Connections made after an earlier one ended (robust clients). */
  reconnects = 0;
  /** Connection attempts that failed (refused, timed out, TLS verification). */
  failures = 0;
  /** Handlers that threw or rejected, and socket errors. */
  errors = 0;
  /** Bytes read from closed connections. */
  bytes_in = 0;
  /** Bytes written to closed connections. */
  bytes_out = 0;

  constructor(kind: string, name?: string | null) {
    super(name);
    this.kind = kind;
  }
}
