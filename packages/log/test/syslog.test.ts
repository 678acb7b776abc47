import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { basicConfig, flush, getLogger } from '../src/index';

// RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
const rfc5424 =
  /^<(\d{1,3})>1 (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|[+-]\d{2}:\d{2})) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) (-|\[.+\]) (.*)$/s;

afterAll(() => {
  basicConfig({ logFormat: 'disabled', buffered: false });
});

describe('syslog format', () => {
  it.each([false, true])(
    'sends RFC 5424 datagrams to a UDP endpoint (buffered: %s)',
    async (buffered) => {
      const server = createSocket('udp4');
      const messages: string[] = [];
      server.on('message', (message) => messages.push(message.toString('utf8')));
      await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address();
        basicConfig({
          logFormat: 'syslog',
          level: 'debug',
          buffered,
          syslog: { host: '127.0.0.1', port, appName: 'svc', facility: 16 },
        });
        const log = getLogger('db.pool');
        log.info({ size: 4 }, 'pool ready');
        log.error('query failed');
        log.debug('tick');
        await flush();
        await expect.poll(() => messages.length, { timeout: 5000 }).toBe(3);
        const parsed = messages.map((message) => rfc5424.exec(message));
        for (const match of parsed) expect(match).not.toBeNull();
        // local0 (16) * 8 + severity: info 6, error 3, debug 7
        expect(parsed.map((match) => Number(match![1]))).toEqual([134, 131, 135]);
        expect(parsed[0]![3]).toBe(hostname());
        expect(parsed[0]![4]).toBe('svc');
        expect(parsed[0]![5]).toBe(String(process.pid));
        expect(parsed[0]![6]).toBe('db.pool');
        expect(parsed[0]![8]).toBe('pool ready size=4');
        expect(parsed[1]![8]).toBe('query failed');
        expect(Math.abs(Date.parse(parsed[0]![2]!) - Date.now())).toBeLessThan(60_000);
      } finally {
        server.close();
      }
    },
  );

  it('frames messages with octet counting over TCP', async () => {
    let received = '';
    const server = createServer((socket) =>
      socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk)),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      basicConfig({ logFormat: 'syslog', buffered: true, syslog: `tcp://127.0.0.1:${port}` });
      getLogger('tcp').warn('first');
      getLogger('tcp').info('second line');
      await flush();
      await expect
        .poll(() => received.match(/^\d+ /) !== null && received.includes('second line'), {
          timeout: 5000,
        })
        .toBe(true);
      const frames: string[] = [];
      let rest = Buffer.from(received);
      while (rest.length > 0) {
        const space = rest.indexOf(0x20);
        const length = Number(rest.subarray(0, space).toString());
        frames.push(rest.subarray(space + 1, space + 1 + length).toString());
        rest = rest.subarray(space + 1 + length);
      }
      expect(frames).toHaveLength(2);
      expect(rfc5424.exec(frames[0]!)?.[8]).toBe('first');
      expect(Number(rfc5424.exec(frames[0]!)?.[1])).toBe(8 + 4);
      expect(rfc5424.exec(frames[1]!)?.[8]).toBe('second line');
    } finally {
      basicConfig({ logFormat: 'disabled', buffered: false });
      server.close();
    }
  });
});
