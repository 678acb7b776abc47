import { makeCertificates, type Certificates } from '@aiomisc/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InvalidArgumentError, tlsClientOptions, tlsServerOptions } from '../src/index';

let certs: Certificates;
beforeAll(() => {
  certs = makeCertificates();
});
afterAll(() => certs.cleanup());

function errorOf(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('tlsServerOptions', () => {
  it('reads paths and takes PEM contents as they are', () => {
    const fromPaths = tlsServerOptions({ cert: certs.server.certPath, key: certs.server.keyPath });
    const fromPem = tlsServerOptions({ cert: certs.server.cert, key: certs.server.key });
    expect(fromPaths.cert).toEqual(Buffer.from(certs.server.cert));
    expect(fromPem.key).toEqual(Buffer.from(certs.server.key));
    expect(fromPaths.requestCert).toBe(false);
  });

  it('verifies client certificates when a CA is given, unless verify is false', () => {
    const base = { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.certPath };
    expect(tlsServerOptions(base)).toMatchObject({ requestCert: true, rejectUnauthorized: true });
    expect(tlsServerOptions({ ...base, verify: false })).toMatchObject({ requestCert: false });
  });

  it('names the option and the value of a bad input', () => {
    const missing = errorOf(() =>
      tlsServerOptions({ cert: '/nonexistent/server.crt', key: certs.server.key }),
    );
    expect(missing.argument).toBe('cert');
    expect(missing.message).toContain('/nonexistent/server.crt');
    expect(missing.message).toContain('ENOENT');
    expect(
      errorOf(() =>
        tlsServerOptions({ cert: certs.server.cert, key: certs.server.key, verify: true }),
      ).argument,
    ).toBe('verify');
    expect(errorOf(() => tlsServerOptions({ key: certs.server.key })).argument).toBe('cert');
    expect(
      errorOf(() =>
        tlsServerOptions({
          cert: certs.server.cert,
          key: certs.server.key,
          verify: 'yes' as never,
        }),
      ).argument,
    ).toBe('verify');
    expect(
      errorOf(() => tlsServerOptions({ cert: certs.dir, key: certs.server.key })).argument,
    ).toBe('cert');
  });
});

describe('tlsClientOptions', () => {
  it('verifies the server by default', () => {
    expect(tlsClientOptions({}).rejectUnauthorized).toBe(true);
    expect(tlsClientOptions({ verify: false }).rejectUnauthorized).toBe(false);
    expect(tlsClientOptions({ ca: certs.ca.certPath }).ca).toEqual(Buffer.from(certs.ca.cert));
  });

  it('refuses a certificate without its key', () => {
    expect(errorOf(() => tlsClientOptions({ cert: certs.client.cert })).argument).toBe('key');
  });
});
