import { InvalidArgumentError } from '@aiomisc/core';
import type { SyslogEndpoint } from './syslog-sender';

/**
 * Where the `syslog` format sends its RFC 5424 messages.
 *
 * @example
 * ```ts
 * basicConfig({ logFormat: 'syslog', syslog: { protocol: 'tcp', host: 'logs.internal', port: 601, facility: 16 } });
 * ```
 */
export interface SyslogOptions {
  /** `udp` (one message a datagram) or `tcp` (RFC 6587 octet-counting framing). @default 'udp' */
  protocol?: 'udp' | 'tcp';
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 514 */
  port?: number;
  /** Syslog facility number (RFC 5424 table 1). @default 1 (user-level) */
  facility?: number;
  /** The APP-NAME field. @default the script's file name, else process.title */
  appName?: string;
}

const defaultAppName = (): string => {
  const script = process.argv[1];
  return script ? (script.split(/[\\/]/).pop() ?? process.title) : process.title;
};

/**
 * Resolves `syslog` options: an object, or a URL such as `udp://127.0.0.1:514` or
 * `tcp://logs.internal:6514`.
 * @throws {@link InvalidArgumentError} naming the bad part.
 * @internal
 */
export function resolveSyslog(value: string | SyslogOptions | undefined): SyslogEndpoint {
  let options: SyslogOptions = {};
  if (typeof value === 'string') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InvalidArgumentError(
        'syslog',
        value,
        'a URL such as "udp://127.0.0.1:514" or "tcp://host:port"',
      );
    }
    const protocol = url.protocol.replace(/:$/, '');
    if (protocol !== 'udp' && protocol !== 'tcp') {
      throw new InvalidArgumentError('syslog', value, 'a udp:// or tcp:// URL');
    }
    options = {
      protocol,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : 514,
    };
  } else if (value !== undefined) {
    if (typeof value !== 'object' || value === null) {
      throw new InvalidArgumentError('syslog', value, 'a URL string or { protocol, host, port }');
    }
    options = value;
  }
  const protocol = options.protocol ?? 'udp';
  if (protocol !== 'udp' && protocol !== 'tcp')
    throw new InvalidArgumentError('syslog.protocol', protocol, 'one of udp, tcp');
  const port = options.port ?? 514;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('syslog.port', port, 'an integer >= 1 <= 65535');
  }
  const facility = options.facility ?? 1;
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) {
    throw new InvalidArgumentError('syslog.facility', facility, 'an integer >= 0 <= 23');
  }
  return {
    protocol,
    host: options.host || '127.0.0.1',
    port,
    facility,
    appName: options.appName ?? defaultAppName(),
  };
}
