import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { createServer, type Server } from 'node:net';
import { InvalidArgumentError } from './errors/invalid-argument-error';
import { getLogger } from './logger';
import { expectNumber } from './validate';

/** Options of {@link bindSocket}. */
export interface BindSocketOptions {
  /** An IPv4 or IPv6 address; the family follows from it. @default '127.0.0.1' */
  address?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** `tcp` gives a listening `net.Server`, `udp` a bound `dgram.Socket`. @default 'tcp' */
  type?: 'tcp' | 'udp';
  /** For `::`, accept IPv6 only (otherwise IPv4 too, as the seed notes for Linux). @default false */
  ipv6Only?: boolean;
  /** TCP listen backlog. @default 511 */
  backlog?: number;
}

const log = getLogger('aiomisc.bind');

/**
 * Binds a socket with the family (IPv4/IPv6) taken from the address: the seed's `bind_socket`.
 * Node cannot hold a bound TCP socket that does not listen, so a TCP socket comes back as a
 * listening `net.Server` (pass it to `server.listen(handle)` or use it directly); UDP as a
 * bound `dgram.Socket`. Logs `Listening tcp://host:port`.
 *
 * @example
 * ```ts
 * const server = await bindSocket({ address: '::1', port: 0 });
 * server.on('connection', (socket) => socket.end('hi\n'));
 * console.log(server.address());
 * ```
 */
export function bindSocket(options?: BindSocketOptions & { type?: 'tcp' }): Promise<Server>;
export function bindSocket(options: BindSocketOptions & { type: 'udp' }): Promise<UdpSocket>;
export async function bindSocket(options: BindSocketOptions = {}): Promise<Server | UdpSocket> {
  const {
    address = '127.0.0.1',
    port = 0,
    type = 'tcp',
    ipv6Only = false,
    backlog = 511,
  } = options;
  const family = isIP(address);
  if (family === 0) throw new InvalidArgumentError('address', address, 'an IPv4 or IPv6 address');
  expectNumber('port', port, { min: 0, max: 65535, integer: true });
  if (type !== 'tcp' && type !== 'udp')
    throw new InvalidArgumentError('type', type, '"tcp" or "udp"');
  if (type === 'udp') {
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const bound = socket.address();
    log.info(`Listening udp://${formatHost(bound.address)}:${bound.port}`);
    return socket;
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, ipv6Only, backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  if (bound && typeof bound === 'object')
    log.info(`Listening tcp://${formatHost(bound.address)}:${bound.port}`);
  return server;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
