import { z } from 'zod';
import { rpcError } from './errors';
import { CompiledPolicy, ramPolicySchema, type RamPolicy } from './ram-policy';

/**
 * The AccessKeys the simulator accepts, and their state: a key can be disabled (as in the RAM
 * console) and an STS key's token can expire or be replaced, while the simulator runs, so tests
 * can take credentials away from a running rollout and give them back.
 */

export const DEFAULT_ACCOUNT_ID = '1234567890123456';

/** One AccessKey the simulator accepts. */
export interface SimulatorCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** Account the key belongs to (RAM resources and instance ownership). Default 1234567890123456. */
  accountId?: string;
  /** A RAM-like policy; without one the key may call everything. */
  policy?: RamPolicy;
  /** Makes this an STS key: every request must carry this `SecurityToken`. */
  securityToken?: string;
}

/** A key as the server checks it. Its fields change in place when the key is updated. */
export interface KeyState {
  secret: string;
  accountId: string;
  securityToken: string | undefined;
  policy: CompiledPolicy | undefined;
  /** Every request answers `InvalidAccessKeyId.Inactive`. */
  disabled: boolean;
  /** Every request answers `InvalidSecurityToken.Expired` (STS keys only). */
  expired: boolean;
}

/** One row of GET /_admin/credentials: the key's state, never its secret or token. */
export interface CredentialRow {
  accessKeyId: string;
  accountId: string;
  /** An STS key: requests must carry its SecurityToken. */
  sts: boolean;
  disabled: boolean;
  expired: boolean;
  /** A RAM policy is attached. */
  policy: boolean;
}

export const credentialSchema = z.strictObject({
  accessKeyId: z.string().min(1),
  accessKeySecret: z.string().min(1),
  accountId: z.string().min(1).optional(),
  securityToken: z.string().min(1).optional(),
  policy: ramPolicySchema.optional(),
});

/** The body of POST /_admin/credentials/{AccessKeyId}. */
export const credentialUpdateSchema = z.strictObject({
  disabled: z.boolean().optional(),
  /** STS keys only. */
  expired: z.boolean().optional(),
  /** Replaces the token (the key becomes an STS key); clears `expired` unless the same update sets it. */
  securityToken: z.string().min(1).optional(),
});
export type CredentialUpdate = z.input<typeof credentialUpdateSchema>;

/** An admin request about a key that does not exist (404) or already exists (409). */
export class CredentialError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

export class CredentialStore {
  /** By AccessKeyId; the server's signature check reads it directly. */
  readonly keys = new Map<string, KeyState>();

  /** Adds a key, or replaces the one with the same id. */
  put(c: SimulatorCredential): void {
    this.keys.set(c.accessKeyId, {
      secret: c.accessKeySecret,
      accountId: c.accountId ?? DEFAULT_ACCOUNT_ID,
      securityToken: c.securityToken,
      policy: c.policy ? new CompiledPolicy(c.policy) : undefined,
      disabled: false,
      expired: false,
    });
  }

  /**
   * Adds a key at run time.
   * @throws ZodError for a malformed credential; CredentialError (409) when the id is taken.
   */
  add(input: unknown): CredentialRow {
    const c = credentialSchema.parse(input);
    if (this.keys.has(c.accessKeyId))
      throw new CredentialError(`AccessKeyId ${c.accessKeyId} already exists`, 409);
    this.put(c);
    return this.row(c.accessKeyId);
  }

  /**
   * Disables or enables a key, expires or renews an STS token, or replaces the token.
   * @throws CredentialError (404) for an unknown key; ZodError for a malformed update; Error for `expired` on a non-STS key.
   */
  update(accessKeyId: string, input: unknown): CredentialRow {
    const k = this.state(accessKeyId);
    const u = credentialUpdateSchema.parse(input);
    if (u.securityToken !== undefined) {
      k.securityToken = u.securityToken;
      k.expired = false;
    }
    if (u.expired !== undefined) {
      if (k.securityToken === undefined) throw new Error(`expired: ${accessKeyId} is not an STS key`);
      k.expired = u.expired;
    }
    if (u.disabled !== undefined) k.disabled = u.disabled;
    return this.row(accessKeyId);
  }

  /**
   * Deletes a key: its requests then answer `InvalidAccessKeyId.NotFound`.
   * @throws CredentialError (404) for an unknown key.
   */
  remove(accessKeyId: string): void {
    this.state(accessKeyId);
    this.keys.delete(accessKeyId);
  }

  /**
   * Sets or removes (undefined) the RAM policy of a key.
   * @throws CredentialError (404) for an unknown key; ZodError for a malformed policy.
   */
  setPolicy(accessKeyId: string, policy: RamPolicy | undefined): void {
    this.state(accessKeyId).policy = policy ? new CompiledPolicy(ramPolicySchema.parse(policy)) : undefined;
  }

  list(): CredentialRow[] {
    return [...this.keys.keys()].map((id) => this.row(id));
  }

  row(accessKeyId: string): CredentialRow {
    const k = this.state(accessKeyId);
    return {
      accessKeyId,
      accountId: k.accountId,
      sts: k.securityToken !== undefined,
      disabled: k.disabled,
      expired: k.expired,
      policy: k.policy !== undefined,
    };
  }

  private state(accessKeyId: string): KeyState {
    const k = this.keys.get(accessKeyId);
    if (!k) throw new CredentialError(`unknown AccessKeyId ${accessKeyId}`, 404);
    return k;
  }
}

/**
 * Refuses a request whose key was disabled or whose STS token expired; runs once the request's
 * signature and token have been checked.
 * @throws RpcError `InvalidAccessKeyId.Inactive` (400) or `InvalidSecurityToken.Expired` (400).
 */
export function assertKeyUsable(key: KeyState): void {
  if (key.disabled) throw rpcError('InvalidAccessKeyId.Inactive');
  if (key.expired) throw rpcError('InvalidSecurityToken.Expired');
}
