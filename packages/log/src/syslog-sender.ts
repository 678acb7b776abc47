import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Socket as TcpSocket } from 'node:net';

/** A resolved syslog endpoint; plain data that crosses into the transport worker. @internal */
export interface SyslogEndpoint {
  protocol: 'udp' | 'tcp';
  host: string;
  port: number;
  facility: number;
  appName: string;
}

/** Largest message put in one UDP datagram; longer ones are cut (RFC 5426 allows it). */
const maxDatagram = 60_000;

/**
 * Sends formatted syslog messages to an endpoint and can wait until all were handed to the
 * kernel. Runs inside the transport worker.
 * @internal
 */
export class SyslogSender {
  readonly #endpoint: SyslogEndpoint;
  #udp: UdpSocket | undefined;
  #tcp: TcpSocket | undefined;
  #pending = 0;
  #idle: (() => void)[] = [];
  errors = 0;

  constructor(endpoint: SyslogEndpoint) {
    this.#endpoint = endpoint;
    if (endpoint.protocol === 'udp') {
      this.#udp = createSocket(isIPv6(endpoint.host) ? 'udp6' : 'udp4');
      this.#udp.on('error', () => {
        this.errors++;
      });
    } else {
      this.#tcp = connect({ host: endpoint.host, port: endpoint.port });
      this.#tcp.setNoDelay(true);
      this.#tcp.on('error', () => {
        this.errors++;
      });
    }
  }

  /** Sends one message (a trailing newline is dropped: the transport frames it). */
  send(line: string): void {
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    let data = Buffer.from(text);
    this.#pending++;
    const done = (error?: Error | null): void => {
      if (error) this.errors++;
      if (--this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
    };
    if (this.#udp) {
      if (data.length > maxDatagram) data = data.subarray(0, maxDatagram);
      this.#udp.send(data, this.#endpoint.port, this.#endpoint.host, done);
    } else if (this.#tcp && !this.#tcp.destroyed) {
      this.#tcp.write(Buffer.concat([Buffer.from(`${data.length} `), data]), done);
    } else {
      done(new Error('syslog connection closed'));
    }
  }

  /** Resolves once every message sent so far left the process (or failed). */
  drained(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Waits for the messages in flight (at most `timeoutMs`), then closes the socket. It does not
   * wait for the peer: the main thread may be blocked in pino's exit hook meanwhile.
   */
  async close(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([this.drained(), deadline]);
      if (this.#udp) {
        const udp = this.#udp;
        await new Promise<void>((resolve) => udp.close(() => resolve()));
      } else if (this.#tcp && !this.#tcp.destroyed) {
        const tcp = this.#tcp;
        await Promise.race([new Promise<void>((resolve) => tcp.end(() => resolve())), deadline]);
        tcp.destroy();
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
