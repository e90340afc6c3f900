import { readFileSync } from 'node:fs';
import { InputError } from '../config/errors';
import { parseInventory } from '../config/inventory';
import {
  applyPolicyFlags,
  defaultPolicy,
  loadPolicy,
  validatePolicy,
  type PolicyFlags,
} from '../config/policy';
import { createSagClient, type SagCredentialsProvider } from '../sag/client';
import { CredentialsConfigError, resolveCredentialsProvider } from '../sag/credentials';
import { createRateLimiter } from '../sag/rate-limiter';
import { DEFAULT_SAG_SIGNATURE, parseSagSignature, type SagSignature } from '../sag/transport';
import type { SagClient } from '../sag/types';
import type { InventoryDevice, RolloutPolicy } from '../../domain/types';
import { CliError, ExitCode } from './errors';

/** Flags that name the fleet and the policy (`plan`, `start`, `iam-policy`). */
export interface InputFlags extends PolicyFlags {
  /** `--policy FILE` (YAML or JSON). */
  policy?: string;
  /** `--inventory FILE` (CSV or JSON). */
  inventory?: string;
  /** `--discover-region R`: take the fleet from `DescribeSmartAccessGateways` in this region. */
  discoverRegion?: string;
  /** `--discover-version-below V`: only instances whose firmware is older than V. */
  discoverVersionBelow?: string;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError([
      `${what} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`,
    ]);
  }
}

/**
 * The policy: the file's (or the defaults), with the flags applied over it.
 * @throws InputError naming the file line or the flag.
 */
export function loadPolicyFrom(flags: InputFlags): RolloutPolicy {
  const base = flags.policy
    ? loadPolicy(readText(flags.policy, '--policy'), 'auto', flags.policy)
    : defaultPolicy();
  return applyPolicyFlags(base, flags);
}

/**
 * How smartag calls are signed: the `--signature` flag, else `SAG_SIGNATURE`, else `v2` (pop-core,
 * HMAC-SHA1). `v3` is openapi-client with ACS3-HMAC-SHA256.
 * @throws CliError (bad input) naming the flag or the variable.
 */
export function sagSignature(flag: string | undefined, env: NodeJS.ProcessEnv): SagSignature {
  try {
    return (
      parseSagSignature(flag, '--signature') ??
      parseSagSignature(env.SAG_SIGNATURE, 'SAG_SIGNATURE') ??
      DEFAULT_SAG_SIGNATURE
    );
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.badInput);
  }
}

/**
 * The SAG client the CLI itself uses (discovery, `plan`): credentials from the Alibaba chain, or
 * with `SAG_ENDPOINT` set, `SAG_SIMULATOR_ACCESS_KEY_ID`/`_SECRET` as a fallback; signed as
 * `SAG_SIGNATURE` says.
 * @throws CredentialsConfigError naming what is missing (never a value).
 */
export function cliSagClient(env: NodeJS.ProcessEnv, apiRate: number): SagClient {
  const credentials = resolveSagCredentials(env);
  const limiter = createRateLimiter(apiRate);
  return createSagClient({
    credentials,
    signature: sagSignature(undefined, env),
    endpoint: env.SAG_ENDPOINT || undefined,
    beforeCall: () => limiter.acquire(),
  });
}

/**
 * Credentials for smartag calls: the Alibaba credential chain first; when `SAG_ENDPOINT` is set
 * (a simulator), `SAG_SIMULATOR_ACCESS_KEY_ID` and `SAG_SIMULATOR_ACCESS_KEY_SECRET` also do.
 * @throws CredentialsConfigError when nothing is configured.
 */
export function resolveSagCredentials(env: NodeJS.ProcessEnv): SagCredentialsProvider & { source: string } {
  const chain = resolveCredentialsProvider(env, { allowMissing: true });
  if (chain) return chain;
  const id = env.SAG_SIMULATOR_ACCESS_KEY_ID?.trim();
  const secret = env.SAG_SIMULATOR_ACCESS_KEY_SECRET?.trim();
  if (env.SAG_ENDPOINT && id && secret) {
    return {
      source: 'simulator-env',
      getCredentials: () => Promise.resolve({ accessKeyId: id, accessKeySecret: secret }),
    };
  }
  if (env.SAG_ENDPOINT && (id || secret)) {
    throw new CredentialsConfigError(
      `${id ? 'SAG_SIMULATOR_ACCESS_KEY_SECRET' : 'SAG_SIMULATOR_ACCESS_KEY_ID'} is missing`,
    );
  }
  // Let the resolver name every option.
  return resolveCredentialsProvider(env);
}

/**
 * The fleet: an inventory file, or discovery through `DescribeSmartAccessGateways`.
 * @throws InputError for a bad file or flags; CredentialsConfigError when discovery has no keys.
 */
export async function loadInventoryFrom(flags: InputFlags, sag: () => SagClient): Promise<InventoryDevice[]> {
  if (flags.inventory && flags.discoverRegion)
    throw new InputError(['give --inventory or --discover-region, not both']);
  if (flags.inventory) {
    if (flags.discoverVersionBelow)
      throw new InputError(['--discover-version-below needs --discover-region, not --inventory']);
    return parseInventory(readText(flags.inventory, '--inventory'), 'auto', { source: flags.inventory });
  }
  if (!flags.discoverRegion) {
    throw new InputError([
      'name the fleet: --inventory FILE (CSV or JSON) or --discover-region R [--discover-version-below V]',
    ]);
  }
  return discover(sag(), flags.discoverRegion, flags.discoverVersionBelow);
}

/** Lists a region's instances, optionally only those whose firmware is below a version. */
async function discover(sag: SagClient, regionId: string, below?: string): Promise<InventoryDevice[]> {
  const devices: InventoryDevice[] = [];
  for (let pageNumber = 1; ; pageNumber++) {
    const page = await sag.describeSmartAccessGateways({
      regionId,
      pageNumber,
      pageSize: 50,
      ...(below ? { softwareVersion: below, versionComparator: 'less' as const } : {}),
    });
    for (const i of page.items)
      devices.push({
        smartAgId: i.smartAgId,
        regionId: i.regionId || regionId,
        serialNumbers: i.serialNumbers,
      });
    if (page.items.length === 0 || devices.length >= page.totalCount) break;
  }
  if (devices.length === 0) {
    throw new InputError([
      `--discover-region ${regionId}: found no instance${below ? ` below ${below}` : ''}`,
    ]);
  }
  return devices;
}

/**
 * Validates the policy against the fleet; {@link validatePolicy} also checks, once the policy
 * holds, that some change window can open for a device.
 * @throws InputError listing every problem.
 */
export function validateAll(
  policy: RolloutPolicy,
  inventory: InventoryDevice[],
  ctx: { ticket?: string; operator?: string },
): void {
  validatePolicy(policy, inventory, ctx);
}

/** Parses a positive number flag. */
export function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0))
    throw new CliError(`${flag}: ${JSON.stringify(value)} must be a number above 0`, ExitCode.badInput);
  return n;
}

/** Parses a whole-number flag at least `min`. */
export function wholeNumber(value: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
    throw new CliError(
      `${flag}: ${JSON.stringify(value)} must be a whole number of at least ${min}`,
      ExitCode.badInput,
    );
  }
  return Number(value);
}
