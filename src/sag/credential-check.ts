import { resolveCodePolicy } from '../../domain/error-policy';
import { CredentialsFailure, SagError } from './errors';
import type { SagClient } from './types';

/** What a worker learned by asking smartag one read-only question with its credentials. */
export type CredentialCheck =
  | { ok: true; regions: number }
  /** The credentials or permissions were refused: no rollout can run on this worker. */
  | { ok: false; refused: true; code: string; message: string }
  /** The answer proved nothing about the credentials (network, throttling, a 5xx): worth a warning. */
  | { ok: false; refused: false; code: string; message: string };

/**
 * Asks `DescribeRegions` (read-only, in the RAM policy `iam-policy` writes) with the worker's
 * credentials. A code the error policy halts a rollout on (a wrong, disabled or expired key, a
 * signature that does not match, a missing permission) is a refusal; the credential chain
 * yielding no keys is one too.
 */
export async function checkSagCredentials(client: SagClient): Promise<CredentialCheck> {
  try {
    const r = await client.describeRegions();
    return { ok: true, regions: r.regions.length };
  } catch (err) {
    if (err instanceof CredentialsFailure)
      return { ok: false, refused: true, code: 'CredentialsUnavailable', message: err.message };
    if (!(err instanceof SagError))
      return { ok: false, refused: false, code: 'Unknown', message: (err as Error).message ?? String(err) };
    const policy = resolveCodePolicy(err.code, undefined, err.httpStatus);
    const refused = policy.action === 'halt' || policy.class === 'rollout';
    return { ok: false, refused, code: err.code, message: err.message };
  }
}
