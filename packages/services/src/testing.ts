export { TCPProxy } from './network/tcp-proxy';
export { unusedPort } from './network/unused-port';

export type { ChunkProcessor, TCPProxyOptions } from './network/tcp-proxy';
export type { UnusedPortOptions } from './network/unused-port';
