/**
 * The least-privilege RAM policy for a fleet, kept within RAM's size limit on a policy document:
 * per-instance ARNs while they fit, else the largest regions widened to all SAG instances of the
 * account in that region, or (asked for) several policies of per-instance ARNs.
 */

import type { InventoryDevice } from '../../domain/types';
import {
  buildIamPolicy,
  type IamPolicyOptions,
  type RamPolicyDocument,
  type RamPolicyStatement,
} from '../sag/iam-policy';

/**
 * RAM's limit on a custom policy document: 6,144 characters (RAM "Limits", "The number of
 * characters that a custom policy can contain"; CreatePolicy's `PolicyDocument`: 1 to 6,144
 * characters). Measured on the compact JSON that `iam-policy` prints (with or without `--json`).
 */
export const RAM_POLICY_DOCUMENT_LIMIT = 6144;

/** RAM's default quota of custom policies attached to one RAM user or role (adjustable). */
export const RAM_ATTACHED_CUSTOM_POLICIES = 10;

/** A region whose per-instance ARNs were replaced by a wildcard. */
export interface WidenedRegion {
  regionId: string;
  /** Instances of the inventory in the region. */
  instances: number;
  /** `acs:smartag:{regionId}:{accountId}:smartag/*` */
  resource: string;
}

/** The fitted policy (or policies) and what was done to fit them. */
export interface FittedIamPolicy {
  documents: RamPolicyDocument[];
  /** `instance`: every grant names its instance; `region`: some regions are widened. */
  scope: 'instance' | 'region';
  widened: WidenedRegion[];
  /** Characters of each document's compact JSON. */
  sizes: number[];
  /** Characters the single per-instance policy would have. */
  perInstanceSize: number;
  limit: number;
  /** What the operator should know: which scope was widened or split, and why. */
  notes: string[];
}

/** Options of {@link fitIamPolicy}. */
export interface FitOptions extends IamPolicyOptions {
  /** `widen` (default): widen the largest regions until one policy fits; `split`: several per-instance policies. */
  mode?: 'widen' | 'split';
  /** The size limit (default {@link RAM_POLICY_DOCUMENT_LIMIT}). */
  limit?: number;
}

/** Characters of a document as `iam-policy` prints it: compact JSON. */
function documentSize(doc: RamPolicyDocument): number {
  return JSON.stringify(doc).length;
}

/**
 * Builds the least-privilege policy and keeps each document within `limit` characters.
 * @throws IamPolicyInputError for an account ID, region or instance ID that cannot appear in an ARN.
 */
export function fitIamPolicy(
  inventory: InventoryDevice[],
  accountId: string,
  opts: FitOptions = {},
): FittedIamPolicy {
  const limit = opts.limit ?? RAM_POLICY_DOCUMENT_LIMIT;
  const full = buildIamPolicy(inventory, accountId, opts);
  const perInstanceSize = documentSize(full);
  const base = { perInstanceSize, limit, widened: [] as WidenedRegion[] };
  const n = new Set(inventory.map((d) => d.smartAgId)).size;
  if (perInstanceSize <= limit)
    return {
      ...base,
      documents: [full],
      scope: 'instance',
      sizes: [perInstanceSize],
      notes: [
        `scope: per instance (${n} ${n === 1 ? 'instance' : 'instances'}); ${perInstanceSize} of RAM's ${limit} characters per policy document`,
      ],
    };
  const over = `per-instance ARNs for ${n} instances make a ${perInstanceSize}-character policy, over RAM's limit of ${limit} characters per policy document`;
  return opts.mode === 'split' ? split(full, base, over) : widen(full, accountId, base, over);
}

/** The statement that grants the per-instance actions (absent for an empty inventory). */
function instanceStatement(doc: RamPolicyDocument): RamPolicyStatement | undefined {
  return doc.Statement.find((s) => !s.Resource.includes('*'));
}

function widen(
  full: RamPolicyDocument,
  accountId: string,
  base: Pick<FittedIamPolicy, 'perInstanceSize' | 'limit'>,
  over: string,
): FittedIamPolicy {
  const grant = instanceStatement(full)!;
  const byRegion = new Map<string, string[]>();
  for (const arn of grant.Resource) {
    const region = arn.split(':')[2]!;
    byRegion.set(region, [...(byRegion.get(region) ?? []), arn]);
  }
  // The regions with the most instances first: each widening saves the most characters.
  const order = [...byRegion.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const widened: WidenedRegion[] = [];
  let doc = full;
  for (const [regionId, arns] of order) {
    widened.push({
      regionId,
      instances: arns.length,
      resource: `acs:smartag:${regionId}:${accountId}:smartag/*`,
    });
    const wide = new Set(widened.map((w) => w.regionId));
    const resources = [
      ...widened.map((w) => w.resource),
      ...grant.Resource.filter((arn) => !wide.has(arn.split(':')[2]!)),
    ];
    doc = {
      ...full,
      Statement: full.Statement.map((s) => (s === grant ? { ...s, Resource: resources } : s)),
    };
    if (documentSize(doc) <= base.limit) break;
  }
  const size = documentSize(doc);
  const kept = grant.Resource.length - widened.reduce((a, w) => a + w.instances, 0);
  const notes = [
    `scope widened: ${widened.map((w) => `every SAG instance of account ${accountId} in ${w.regionId} (${w.resource}, for the inventory's ${w.instances})`).join('; ')}`,
    `why: ${over}; the largest regions were widened until it fit (${size} characters)`,
    kept > 0
      ? `kept per instance: ${kept} ${kept === 1 ? 'instance' : 'instances'} in the other regions`
      : 'no region kept per-instance ARNs',
    `to keep per-instance ARNs instead: --split (several policies; RAM attaches ${RAM_ATTACHED_CUSTOM_POLICIES} custom policies to a user or role by default)`,
  ];
  return { ...base, documents: [doc], scope: 'region', widened, sizes: [size], notes };
}

function split(
  full: RamPolicyDocument,
  base: Pick<FittedIamPolicy, 'perInstanceSize' | 'limit'>,
  over: string,
): FittedIamPolicy {
  const grant = instanceStatement(full)!;
  const others = full.Statement.filter((s) => s !== grant);
  const make = (resources: string[], first: boolean): RamPolicyDocument => ({
    Version: '1',
    Statement: [{ ...grant, Resource: resources }, ...(first ? others : [])],
  });
  const documents: RamPolicyDocument[] = [];
  let current: string[] = [];
  for (const arn of grant.Resource) {
    const next = [...current, arn];
    if (current.length > 0 && documentSize(make(next, documents.length === 0)) > base.limit) {
      documents.push(make(current, documents.length === 0));
      current = [arn];
    } else current = next;
  }
  documents.push(make(current, documents.length === 0));
  const sizes = documents.map(documentSize);
  const notes = [
    `scope: per instance, split into ${documents.length} policies (largest ${Math.max(...sizes)} characters)`,
    `why: ${over}`,
  ];
  if (documents.length > RAM_ATTACHED_CUSTOM_POLICIES)
    notes.push(
      `warning: ${documents.length} policies exceed the ${RAM_ATTACHED_CUSTOM_POLICIES} custom policies RAM attaches to one user or role by default: raise the quota, spread them over RAM user groups, or drop --split to widen by region`,
    );
  return { ...base, documents, scope: 'instance', widened: [], sizes, notes };
}
