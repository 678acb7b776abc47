import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pair(dir, name) {
  return {
    certPath: join(dir, `${name}.crt`),
    keyPath: join(dir, `${name}.key`),
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
  };
}

function makeCa(dir, name) {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function makeLeaf(dir, name, ca, extensions) {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/**
 * Makes a throwaway PKI with the `openssl` CLI in a temporary directory: a CA, a server
 * certificate for `localhost` / 127.0.0.1 / ::1 and a client certificate, both signed by it,
 * and a second, unrelated CA with its own client certificate (for "untrusted" cases).
 * Each entry has PEM contents (`cert`, `key`) and file paths (`certPath`, `keyPath`).
 * `cleanup()` removes the directory.
 */
export function makeCertificates() {
  const dir = mkdtempSync(join(tmpdir(), 'aiomisc-certs-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  makeLeaf(
    dir,
    'server',
    'ca',
    [
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      'extendedKeyUsage=serverAuth',
      'basicConstraints=CA:FALSE',
      '',
    ].join('\n'),
  );
  makeLeaf(
    dir,
    'client',
    'ca',
    ['extendedKeyUsage=clientAuth', 'basicConstraints=CA:FALSE', ''].join('\n'),
  );
  makeLeaf(
    dir,
    'other-client',
    'other-ca',
    ['extendedKeyUsage=clientAuth', 'basicConstraints=CA:FALSE', ''].join('\n'),
  );
  return {
    dir,
    ca: pair(dir, 'ca'),
    server: pair(dir, 'server'),
    client: pair(dir, 'client'),
    otherCa: pair(dir, 'other-ca'),
    otherClient: pair(dir, 'other-client'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
