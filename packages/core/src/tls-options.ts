import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';

import { InvalidArgumentError } from './errors/invalid-argument-error';

/** PEM contents, or a path to a PEM file. */
export type PemSource = string | Buffer;

/**
 * The TLS options shared by every TLS server and client of the `@aiomisc/*` packages (services,
 * http, grpc: the seed's `ca`, `cert`, `key`, `verify`). Each of `ca`, `cert`, `key` is PEM contents or a path to a file.
 */
export interface TlsFileOptions {
  /** Certificate chain (PEM or path). Required for servers. */
  cert?: PemSource;
  /** Private key (PEM or path). Required with `cert`. */
  key?: PemSource;
  /** CA certificate(s) that the peer's certificate must be signed by (PEM or path). */
  ca?: PemSource;
  /**
   * Servers: require and check a client certificate signed by `ca` (needs `ca`).
   * Clients: check the server's certificate and host name (the default; the Python does not).
   */
  verify?: boolean;
}

const PEM_MARKER = '-----BEGIN ';

/**
 * Reads `value` as PEM: PEM contents (a string or Buffer with a `-----BEGIN` line) are returned
 * as they are; anything else is a file path, read now. A missing or unreadable file, or a file
 * without PEM, is an {@link InvalidArgumentError} naming `option` and the path.
 */
export function readPem(option: string, value: PemSource): Buffer {
  if (Buffer.isBuffer(value)) {
    if (value.includes(PEM_MARKER)) return value;
    throw new InvalidArgumentError(
      option,
      '<Buffer>',
      'PEM contents (-----BEGIN ...) or a file path',
    );
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(option, value, 'PEM contents or a path to a PEM file');
  }
  if (value.includes(PEM_MARKER)) return Buffer.from(value);
  let contents: Buffer;
  try {
    contents = readFileSync(value);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InvalidArgumentError(option, value, `a readable PEM file (${reason})`);
  }
  if (!contents.includes(PEM_MARKER)) {
    throw new InvalidArgumentError(option, value, 'a PEM file (no -----BEGIN line in it)');
  }
  return contents;
}

function expectVerify(argument: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new InvalidArgumentError(argument, value, 'a boolean');
}

/**
 * Resolves server TLS options: `cert` and `key` required; with `verify` (default: on when a `ca`
 * is given) the server requests a client certificate and refuses clients without one signed by
 * `ca`. `verify: true` without `ca` is refused: there would be nothing to check against.
 *
 * @example
 * ```ts
 * const options = tlsServerOptions({ cert: 'server.crt', key: 'server.key', ca: 'ca.crt' });
 * tls.createServer(options, onSocket);
 * ```
 */
export function tlsServerOptions(
  options: TlsFileOptions,
  prefix = '',
): SecureContextOptions & {
  requestCert: boolean;
  rejectUnauthorized: boolean;
} {
  if (options.cert === undefined) {
    throw new InvalidArgumentError(`${prefix}cert`, undefined, 'a certificate (PEM or path)');
  }
  if (options.key === undefined) {
    throw new InvalidArgumentError(`${prefix}key`, undefined, 'a private key (PEM or path)');
  }
  const verify = expectVerify(`${prefix}verify`, options.verify);
  if (verify === true && options.ca === undefined) {
    throw new InvalidArgumentError(
      `${prefix}verify`,
      true,
      'a `ca` to verify client certificates against',
    );
  }
  const ca = options.ca === undefined ? undefined : readPem(`${prefix}ca`, options.ca);
  const check = verify ?? ca !== undefined;
  return {
    cert: readPem(`${prefix}cert`, options.cert),
    key: readPem(`${prefix}key`, options.key),
    ...(ca === undefined ? {} : { ca }),
    requestCert: check,
    rejectUnauthorized: check,
  };
}

/**
 * Resolves client TLS options: the server's certificate and host name are verified unless
 * `verify: false` (against `ca` when given, else Node's bundled roots); `cert`/`key` present a
 * client certificate.
 */
export function tlsClientOptions(options: TlsFileOptions): SecureContextOptions & {
  rejectUnauthorized: boolean;
} {
  const verify = expectVerify('verify', options.verify) ?? true;
  if ((options.cert === undefined) !== (options.key === undefined)) {
    const missing = options.cert === undefined ? 'cert' : 'key';
    throw new InvalidArgumentError(
      missing,
      undefined,
      `a ${missing} to go with the given ${missing === 'cert' ? 'key' : 'cert'}`,
    );
  }
  return {
    ...(options.ca === undefined ? {} : { ca: readPem('ca', options.ca) }),
    ...(options.cert === undefined ? {} : { cert: readPem('cert', options.cert) }),
    ...(options.key === undefined ? {} : { key: readPem('key', options.key) }),
    rejectUnauthorized: verify,
  };
}
