/**
 * Who runs the CLI, as something authenticated it: the subject of the Temporal client certificate
 * when the connection uses one (the server verified it), else the OS account on this host (a
 * shared one, root or Administrator, names no person: approverMustDiffer refuses it).
 * `--operator` stays a display name beside it.
 */
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import type { TemporalTarget } from '../temporal/connection';

/** The subject of a PEM client certificate as `cert:CN=…,O=…`, or undefined when it cannot be read. */
export function certIdentity(pem: Uint8Array | string | undefined): string | undefined {
  if (!pem) return undefined;
  try {
    const subject = new X509Certificate(typeof pem === 'string' ? pem : Buffer.from(pem)).subject
      .split('\n')
      .join(',');
    return `cert:${subject}`;
  } catch {
    return undefined;
  }
}

/**
 * The OS account: `os:<user>@<host>`, or `os:<user>(uid 0)@<host>` for a superuser not named
 * root, so approverMustDiffer knows it for the shared account it is (domain/commands.ts).
 */
export function osIdentity(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = os.userInfo().username || user;
  } catch {
    // No passwd entry for this uid: the environment's name stands.
  }
  const superuser = process.getuid?.() === 0 && user !== 'root';
  return `os:${user}${superuser ? '(uid 0)' : ''}@${os.hostname()}`;
}

/** The CLI's identity for commands and starts sent through `target`. */
export function cliIdentity(target: TemporalTarget): string {
  const tls = target.connectionOptions.tls;
  const crt = tls && typeof tls === 'object' ? tls.clientCertPair?.crt : undefined;
  return certIdentity(crt) ?? osIdentity();
}
