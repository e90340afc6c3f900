import { z } from 'zod';

/**
 * A RAM-like policy document, enforced per AccessKey:
 * `{"Version":"1","Statement":[{"Effect":"Allow","Action":["smartag:Describe*"],"Resource":["*"]}]}`.
 * `*` (any run of characters) and `?` (one character) are wildcards in actions and resources;
 * actions match case-insensitively, as in RAM; an explicit Deny wins over any Allow.
 */

const stringOrList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const ramPolicySchema = z.object({
  Version: z.string().default('1'),
  Statement: z.array(
    z.object({
      Effect: z.enum(['Allow', 'Deny']),
      Action: stringOrList,
      Resource: stringOrList.default(['*']),
    }),
  ),
});
export type RamPolicy = z.input<typeof ramPolicySchema>;

interface CompiledStatement {
  allow: boolean;
  actions: RegExp[];
  resources: RegExp[];
}

/** A policy compiled for fast evaluation. */
export class CompiledPolicy {
  private readonly statements: CompiledStatement[];
  constructor(policy: RamPolicy) {
    const parsed = ramPolicySchema.parse(policy);
    this.statements = parsed.Statement.map((s) => ({
      allow: s.Effect === 'Allow',
      actions: s.Action.map((a) => globToRegExp(a, true)),
      resources: s.Resource.map((r) => globToRegExp(r, false)),
    }));
  }

  /** Whether `smartag:{action}` on `resource` is allowed: some Allow matches and no Deny does. */
  allows(action: string, resource: string): boolean {
    const qualified = `smartag:${action}`;
    let allowed = false;
    for (const s of this.statements) {
      if (!s.actions.some((r) => r.test(qualified))) continue;
      if (!s.resources.some((r) => r.test(resource))) continue;
      if (!s.allow) return false;
      allowed = true;
    }
    return allowed;
  }
}

function globToRegExp(glob: string, caseInsensitive: boolean): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, caseInsensitive ? 'i' : '');
}

/** Actions authorised on all resources (`*`) rather than on an instance. */
export const LIST_ACTIONS = new Set(['DescribeSmartAccessGateways', 'DescribeRegions']);

/** The resource an action is checked against. */
export function resourceFor(
  action: string,
  accountId: string,
  regionId: string | undefined,
  smartAgId: string | undefined,
): string {
  if (LIST_ACTIONS.has(action) || !smartAgId) return '*';
  return `acs:smartag:${regionId ?? '*'}:${accountId}:smartag/${smartAgId}`;
}
