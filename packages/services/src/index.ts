export { readPem, tlsClientOptions, tlsServerOptions } from './tls-options';

export type { PemSource, TlsFileOptions } from './tls-options';
