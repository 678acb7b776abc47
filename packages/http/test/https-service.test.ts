import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { request as httpsRequest } from 'node:https';

import { sleep } from '@aiomisc/core';
import { makeCertificates, type Certificates } from '@aiomisc/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HTTPSService, type RequestListener } from '../src/index';
import { connectOutcome } from './helpers';

let certs: Certificates;
beforeAll(() => {
  certs = makeCertificates();
});
afterAll(() => certs.cleanup());

class Secure extends HTTPSService {
  static override defaults = { address: '127.0.0.1', port: 0 };
  createHandler(): RequestListener {
    return (req, res) => {
      const delay = req.url === '/slow' ? 300 : 0;
      setTimeout(() => res.end(`hello over ${req.httpVersion}`), delay);
    };
  }
}

function h2Get(
  session: ClientHttp2Session,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
    stream.end();
  });
}

describe('HTTPSService', () => {
  it('serves a request listener over TLS', async () => {
    const service = new Secure({ cert: certs.server.certPath, key: certs.server.keyPath });
    await service.start();
    try {
      const body = await new Promise<string>((resolve, reject) => {
        httpsRequest(
          {
            host: '127.0.0.1',
            port: service.address().port,
            ca: certs.ca.cert,
            servername: 'localhost',
          },
          (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString()));
            response.on('end', () => resolve(text));
          },
        )
          .on('error', reject)
          .end();
      });
      expect(body).toBe('hello over 1.1');
    } finally {
      await service.stop();
    }
  });

  it('over HTTP/2: a stream in flight at stop completes, the session gets a GOAWAY', async () => {
    const service = new Secure({ cert: certs.server.cert, key: certs.server.key, http2: true });
    await service.start();
    const port = service.address().port;
    const session = http2Connect(`https://localhost:${port}`, { ca: certs.ca.cert });
    session.on('error', () => {});
    expect(await h2Get(session, '/')).toEqual({ status: 200, body: 'hello over 2.0' });
    const slow = h2Get(session, '/slow');
    await sleep(50);
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    const stopping = service.stop();
    await goaway;
    expect(await slow).toEqual({ status: 200, body: 'hello over 2.0' });
    await stopping;
    expect(service.lastShutdown).toMatchObject({ inFlightAtClose: 1, timedOut: false });
    expect(await connectOutcome(port)).toBe('ECONNREFUSED');
    session.destroy();
  });
});
