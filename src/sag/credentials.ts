/**
 * Where the worker's Alibaba Cloud keys come from. Credentials live only in the worker's
 * environment: they never enter a workflow input, a log line or an error message.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DefaultCredentialsProvider,
  StaticAKCredentialsProvider,
  StaticSTSCredentialsProvider,
} from '@alicloud/credentials';
import type { SagCredentials, SagCredentialsProvider } from './client';
import { scrubText } from './internal/scrub';

/** Which source a provider draws on (safe to log: names, never values). */
export type CredentialSource = 'env-access-key' | 'env-sts' | 'credential-chain';

/** A credential provider together with a loggable description of its source. */
export interface ResolvedCredentialsProvider extends SagCredentialsProvider {
  readonly source: CredentialSource;
  /** The variables or files that selected this source, e.g. `ALIBABA_CLOUD_CREDENTIALS_FILE`. */
  readonly configuredBy: readonly string[];
}

export interface ResolveCredentialsOptions {
  /** Return `undefined` instead of throwing when nothing is configured. */
  allowMissing?: boolean;
  /** Home directory searched for `.aliyun/config.json` and `.alibabacloud/credentials`. Default `$HOME`. */
  homeDir?: string;
}

/** Credentials are configured wrongly or not at all. The message names variables, never values. */
export class CredentialsConfigError extends Error {
  override readonly name = 'CredentialsConfigError';
}

const AK = 'ALIBABA_CLOUD_ACCESS_KEY_ID';
const SECRET = 'ALIBABA_CLOUD_ACCESS_KEY_SECRET';
const TOKEN = 'ALIBABA_CLOUD_SECURITY_TOKEN';
const OIDC = [
  'ALIBABA_CLOUD_ROLE_ARN',
  'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
  'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
] as const;

function set(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name];
  return value !== undefined && value.trim() !== '';
}

function isTrue(env: NodeJS.ProcessEnv, name: string): boolean {
  return env[name]?.trim().toLowerCase() === 'true';
}

/**
 * What would make `@alicloud/credentials`' default chain find credentials other than by probing
 * the ECS metadata service: OIDC variables, a CLI profile, a credentials file, an explicit ECS
 * role name, a credentials URI.
 */
function chainSignals(env: NodeJS.ProcessEnv, homeDir: string | undefined): string[] {
  const signals: string[] = [];
  const oidcSet = OIDC.filter((name) => set(env, name));
  if (oidcSet.length === OIDC.length) signals.push(...OIDC);
  else if (oidcSet.length > 0) {
    const missing = OIDC.filter((name) => !set(env, name));
    throw new CredentialsConfigError(
      `OIDC role credentials are incomplete: ${oidcSet.join(', ')} set but ${missing.join(', ')} missing`,
    );
  }
  if (
    !isTrue(env, 'ALIBABA_CLOUD_CLI_PROFILE_DISABLED') &&
    homeDir !== undefined &&
    existsSync(path.join(homeDir, '.aliyun', 'config.json'))
  ) {
    signals.push('~/.aliyun/config.json');
  }
  if (set(env, 'ALIBABA_CLOUD_CREDENTIALS_FILE')) signals.push('ALIBABA_CLOUD_CREDENTIALS_FILE');
  else if (homeDir !== undefined && existsSync(path.join(homeDir, '.alibabacloud', 'credentials')))
    signals.push('~/.alibabacloud/credentials');
  if (set(env, 'ALIBABA_CLOUD_ECS_METADATA') && !isTrue(env, 'ALIBABA_CLOUD_ECS_METADATA_DISABLED'))
    signals.push('ALIBABA_CLOUD_ECS_METADATA');
  if (set(env, 'ALIBABA_CLOUD_CREDENTIALS_URI')) signals.push('ALIBABA_CLOUD_CREDENTIALS_URI');
  return signals;
}

function plain(credentials: {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}): SagCredentials {
  const out: SagCredentials = {
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
  };
  if (credentials.securityToken) out.securityToken = credentials.securityToken;
  return out;
}

/**
 * Resolves the worker's credential provider from `env`:
 *
 * 1. `ALIBABA_CLOUD_ACCESS_KEY_ID` + `ALIBABA_CLOUD_ACCESS_KEY_SECRET` (+ optional
 *    `ALIBABA_CLOUD_SECURITY_TOKEN` for STS): a static provider over those values.
 * 2. Otherwise, when any source of `@alicloud/credentials`' `DefaultCredentialsProvider` chain is
 *    configured (OIDC role variables, `~/.aliyun/config.json`, `ALIBABA_CLOUD_CREDENTIALS_FILE` or
 *    `~/.alibabacloud/credentials`, `ALIBABA_CLOUD_ECS_METADATA`, `ALIBABA_CLOUD_CREDENTIALS_URI`):
 *    that chain. It reads the process environment itself, and may fall through to the ECS
 *    metadata service (100.100.100.200) only when a configured source fails. On an ECS instance,
 *    set `ALIBABA_CLOUD_ECS_METADATA` to the RAM role name to use the instance role.
 * 3. Otherwise nothing: the metadata service is never probed on speculation.
 *
 * Errors from the chain at call time are rethrown with credential values scrubbed.
 *
 * @throws CredentialsConfigError when only part of a source is set (naming what is missing), or
 *   when nothing is configured and `allowMissing` is not set.
 */
export function resolveCredentialsProvider(
  env: NodeJS.ProcessEnv,
  opts: ResolveCredentialsOptions & { allowMissing: true },
): ResolvedCredentialsProvider | undefined;
export function resolveCredentialsProvider(
  env: NodeJS.ProcessEnv,
  opts?: ResolveCredentialsOptions,
): ResolvedCredentialsProvider;
export function resolveCredentialsProvider(
  env: NodeJS.ProcessEnv,
  opts: ResolveCredentialsOptions = {},
): ResolvedCredentialsProvider | undefined {
  const hasId = set(env, AK);
  const hasSecret = set(env, SECRET);
  const hasToken = set(env, TOKEN);
  if (hasId || hasSecret) {
    if (!hasId) throw new CredentialsConfigError(`${SECRET} is set but ${AK} is missing`);
    if (!hasSecret) throw new CredentialsConfigError(`${AK} is set but ${SECRET} is missing`);
    const accessKeyId = env[AK]!.trim();
    const accessKeySecret = env[SECRET]!.trim();
    if (hasToken) {
      const inner = StaticSTSCredentialsProvider.builder()
        .withAccessKeyId(accessKeyId)
        .withAccessKeySecret(accessKeySecret)
        .withSecurityToken(env[TOKEN]!.trim())
        .build();
      return {
        source: 'env-sts',
        configuredBy: [AK, SECRET, TOKEN],
        getCredentials: async () => plain(await inner.getCredentials()),
      };
    }
    const inner = StaticAKCredentialsProvider.builder()
      .withAccessKeyId(accessKeyId)
      .withAccessKeySecret(accessKeySecret)
      .build();
    return {
      source: 'env-access-key',
      configuredBy: [AK, SECRET],
      getCredentials: async () => plain(await inner.getCredentials()),
    };
  }
  if (hasToken) throw new CredentialsConfigError(`${TOKEN} is set but ${AK} and ${SECRET} are missing`);

  const homeDir = opts.homeDir ?? (set(env, 'HOME') ? env.HOME : os.homedir());
  const signals = chainSignals(env, homeDir);
  if (signals.length > 0) {
    const chain = DefaultCredentialsProvider.builder().build();
    return {
      source: 'credential-chain',
      configuredBy: signals,
      async getCredentials() {
        try {
          return plain(await chain.getCredentials());
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          // The original error is not kept as cause: it may quote a credential file.
          // eslint-disable-next-line preserve-caught-error
          throw new Error(
            `Alibaba Cloud credential chain (${signals.join(', ')}) failed: ${scrubText(message).slice(0, 500)}`,
          );
        }
      },
    };
  }

  if (opts.allowMissing) return undefined;
  throw new CredentialsConfigError(
    `no Alibaba Cloud credentials configured: set ${AK} and ${SECRET} (and ${TOKEN} for STS), ` +
      `or configure a profile (~/.aliyun/config.json, ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials), ` +
      `an OIDC role (${OIDC.join(', ')}), ALIBABA_CLOUD_ECS_METADATA (ECS RAM role name) or ALIBABA_CLOUD_CREDENTIALS_URI`,
  );
}
