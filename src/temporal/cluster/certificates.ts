import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** PEM files of a run's private CA and the certificates it signed. */
export interface TlsMaterial {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** The client certificate every sag-rollout process and the server's own system workers present. */
  clientCert: string;
  clientKey: string;
  /** The name the server certificate carries (and clients verify). */
  serverName: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`openssl ${args[0] ?? ''} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
}

function keyPair(dir: string, name: string): string {
  const key = path.join(dir, `${name}.key`);
  // PKCS#8 P-256: what Go, rustls and Node's TLS all read.
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  chmodSync(key, 0o600);
  return key;
}

function sign(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  ca: { cert: string; key: string },
): { cert: string; key: string } {
  const key = keyPair(dir, name);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  const cert = path.join(dir, `${name}.pem`);
  writeFileSync(ext, extensions);
  openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-days',
      '30',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      cert,
    ],
    dir,
  );
  return { cert, key };
}

/**
 * Generates, with openssl, a CA for one run of the cluster, a server certificate for
 * `localhost`/127.0.0.1 and a client certificate (mutual TLS), valid for 30 days. Rustls (the
 * worker's TLS) accepts only v3 certificates with the right key usages, hence the extensions.
 * @throws Error with openssl's message when openssl is missing or fails.
 */
export function generateTlsMaterial(dir: string): TlsMaterial {
  mkdirSync(dir, { recursive: true });
  const caKey = keyPair(dir, 'ca');
  const caCert = path.join(dir, 'ca.pem');
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-sha256',
      '-days',
      '30',
      '-subj',
      '/CN=sag-rollout cluster CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      caCert,
    ],
    dir,
  );
  const ca = { cert: caCert, key: caKey };
  const server = sign(
    dir,
    'server',
    '/CN=localhost',
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      // The server's system workers connect to the frontend with the server's own pair too.
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '',
    ].join('\n'),
    ca,
  );
  const client = sign(
    dir,
    'client',
    '/CN=sag-rollout',
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=clientAuth',
      '',
    ].join('\n'),
    ca,
  );
  return {
    dir,
    caCert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    serverName: 'localhost',
  };
}

/** The PEM contents of the client side, for clients that take data rather than paths. */
export function clientTlsPem(m: TlsMaterial): { ca: string; crt: string; key: string; serverName: string } {
  return {
    ca: readFileSync(m.caCert, 'utf8'),
    crt: readFileSync(m.clientCert, 'utf8'),
    key: readFileSync(m.clientKey, 'utf8'),
    serverName: m.serverName,
  };
}
