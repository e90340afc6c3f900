/**
 * What a namespace needs before sag-rollout runs on it, checked and (on a self-hosted cluster)
 * created: the namespace with its retention, and the custom search attributes the rollouts write
 * (`list`, the dashboard and follow-ups query them). Read by `sag-rollout setup`, the worker at
 * start-up, and scripts/cluster.ts.
 */
import type { Connection } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { PROJECT_SEARCH_ATTRIBUTES } from './search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** gRPC status codes the checks tell apart (the numbers are gRPC's wire protocol). */
const GRPC = { alreadyExists: 6, notFound: 5, permissionDenied: 7, unimplemented: 12, unauthenticated: 16 };

const DAY_MS = 24 * 60 * 60 * 1000;

/** The retention a namespace gets when `setup` creates it without `--retention`. */
export const DEFAULT_RETENTION_DAYS = 30;

export type NamespaceServices = Pick<Connection, 'workflowService' | 'operatorService'>;

/** One thing setup looked at and what became of it. */
export interface SetupStep {
  /** `namespace <name>` or `search attribute <Name> (Keyword)`. */
  subject: string;
  /**
   * `created`/`updated`: done now; `present`: already as needed; `missing`: absent and left so
   * (Cloud, or a check only); `failed`: the server refused or erred (see `detail`).
   */
  outcome: 'created' | 'updated' | 'present' | 'missing' | 'failed';
  detail?: string;
}

export interface SetupResult {
  namespace: string;
  address: string;
  /** Temporal Cloud: nothing is created; what is missing is listed with the commands that create it. */
  cloud: boolean;
  steps: SetupStep[];
  /** Everything the project needs is there now. */
  ready: boolean;
  /** For Temporal Cloud or a refusal: how an operator creates what is missing. */
  instructions: string[];
}

export interface SetupOptions {
  namespace: string;
  /** The frontend's address, for messages and for recognising Temporal Cloud. */
  address: string;
  /** Retention in days: used when creating the namespace, and applied to an existing one that differs. */
  retentionDays?: number;
  /** Temporal Cloud (forced, or recognised from the address or an API key): check and list, create nothing. */
  cloud?: boolean;
  /** How long to wait for a new namespace to become usable (default 30 s). */
  readyTimeoutMs?: number;
}

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function refusal(err: unknown): string {
  const code = grpcCode(err);
  if (code === GRPC.permissionDenied || code === GRPC.unauthenticated)
    return `refused by the server (${firstLine(err)}): this identity may not manage the namespace`;
  if (code === GRPC.unimplemented) return `not offered by this server (${firstLine(err)})`;
  return firstLine(err);
}

/** Temporal Cloud endpoints: `<ns>.<account>.tmprl.cloud:7233` and the regional `*.api.temporal.io:7233`. */
export function looksLikeTemporalCloud(address: string, apiKey?: unknown): boolean {
  const host = address.replace(/:\d+$/, '').toLowerCase();
  return host.endsWith('.tmprl.cloud') || host.endsWith('.api.temporal.io') || Boolean(apiKey);
}

/** The commands (and the UI path) that create the namespace and attributes on Temporal Cloud. */
export function cloudInstructions(namespace: string, missing: { namespace: boolean; attributes: string[] }) {
  const lines: string[] = [];
  if (missing.namespace)
    lines.push(
      `create the namespace in the Cloud UI (Namespaces > Create) or: tcld namespace create --namespace ${namespace} --region <region> --retention-days ${DEFAULT_RETENTION_DAYS}`,
    );
  if (missing.attributes.length > 0)
    lines.push(
      `add the search attributes in the Cloud UI (Namespaces > ${namespace} > Search attributes, type Keyword) or: tcld namespace search-attributes add --namespace ${namespace} ${missing.attributes.map((a) => `--search-attribute "${a}=Keyword"`).join(' ')}`,
    );
  if (lines.length > 0)
    lines.push(
      'workers on Temporal Cloud cannot add search attributes: run them with --no-register-search-attributes',
    );
  return lines;
}

interface NamespaceState {
  exists: boolean;
  retentionMs?: number;
  error?: unknown;
}

async function describeNamespace(c: NamespaceServices, namespace: string): Promise<NamespaceState> {
  try {
    const r = await c.workflowService.describeNamespace({ namespace });
    return { exists: true, retentionMs: tsToMs(r.config?.workflowExecutionRetentionTtl) };
  } catch (err) {
    if (grpcCode(err) === GRPC.notFound) return { exists: false };
    return { exists: false, error: err };
  }
}

/** The project's attributes that the namespace lacks, and those it holds with another type. */
async function attributeState(
  c: NamespaceServices,
  namespace: string,
): Promise<{ missing: string[]; wrongType: { name: string; type: string }[] }> {
  const r = await c.operatorService.listSearchAttributes({ namespace });
  const custom = r.customAttributes ?? {};
  const missing: string[] = [];
  const wrongType: { name: string; type: string }[] = [];
  for (const { name } of PROJECT_SEARCH_ATTRIBUTES) {
    const type = custom[name];
    if (type === undefined || type === null) missing.push(name);
    else if (type !== IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD)
      wrongType.push({
        name,
        type: IndexedValueType[type]?.replace('INDEXED_VALUE_TYPE_', '') ?? String(type),
      });
  }
  return { missing, wrongType };
}

/**
 * Waits until the frontend serves the namespace: a new namespace reaches the frontend's
 * namespace cache some seconds after it is written.
 */
async function waitUntilServed(c: NamespaceServices, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await c.workflowService.countWorkflowExecutions({ namespace, query: '' });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const saSubject = (name: string) => `search attribute ${name} (Keyword)`;

/**
 * Prepares `namespace` for sag-rollout, idempotently: creates it (retention `retentionDays`, else
 * 30 days) or brings an existing one to `retentionDays` when given, then registers the custom
 * search attributes it lacks. On Temporal Cloud, where namespaces and attributes are managed
 * through Cloud's own tools, it creates nothing and lists what is missing with the commands that
 * create it. Never throws for a refusal: each step says what it could not do.
 */
export async function setupNamespace(c: NamespaceServices, o: SetupOptions): Promise<SetupResult> {
  const cloud = o.cloud ?? looksLikeTemporalCloud(o.address);
  const steps: SetupStep[] = [];
  const nsSubject = `namespace ${o.namespace}`;
  const wantMs = o.retentionDays !== undefined ? o.retentionDays * DAY_MS : undefined;
  const ns = await describeNamespace(c, o.namespace);
  let nsReady = ns.exists;
  let nsMissing = false;
  if (ns.error !== undefined) {
    steps.push({ subject: nsSubject, outcome: 'failed', detail: `cannot describe it: ${refusal(ns.error)}` });
  } else if (ns.exists) {
    const days = (ns.retentionMs ?? 0) / DAY_MS;
    if (wantMs !== undefined && ns.retentionMs !== wantMs && !cloud) {
      try {
        await c.workflowService.updateNamespace({
          namespace: o.namespace,
          config: { workflowExecutionRetentionTtl: msToTs(wantMs) },
        });
        steps.push({
          subject: nsSubject,
          outcome: 'updated',
          detail: `retention ${days} → ${o.retentionDays} days`,
        });
      } catch (err) {
        steps.push({
          subject: nsSubject,
          outcome: 'failed',
          detail: `exists with retention ${days} days; could not set ${o.retentionDays}: ${refusal(err)}`,
        });
      }
    } else {
      steps.push({ subject: nsSubject, outcome: 'present', detail: `retention ${days} days` });
    }
  } else if (cloud) {
    nsMissing = true;
    steps.push({ subject: nsSubject, outcome: 'missing', detail: 'create it with Temporal Cloud’s tools' });
  } else {
    const days = o.retentionDays ?? DEFAULT_RETENTION_DAYS;
    try {
      await c.workflowService.registerNamespace({
        namespace: o.namespace,
        workflowExecutionRetentionPeriod: msToTs(days * DAY_MS),
        description: 'sag-rollout: Smart Access Gateway fleet upgrades',
      });
      steps.push({ subject: nsSubject, outcome: 'created', detail: `retention ${days} days` });
      nsReady = true;
    } catch (err) {
      if (grpcCode(err) === GRPC.alreadyExists) {
        steps.push({ subject: nsSubject, outcome: 'present', detail: 'created meanwhile by someone else' });
        nsReady = true;
      } else {
        nsMissing = true;
        steps.push({ subject: nsSubject, outcome: 'failed', detail: `could not create it: ${refusal(err)}` });
      }
    }
  }
  if (nsReady) {
    try {
      await waitUntilServed(c, o.namespace, o.readyTimeoutMs ?? 30_000);
    } catch (err) {
      nsReady = false;
      steps.push({
        subject: nsSubject,
        outcome: 'failed',
        detail: `not served by the frontend yet: ${firstLine(err)}`,
      });
    }
  }

  let attributesMissing: string[] = PROJECT_SEARCH_ATTRIBUTES.map((k) => k.name);
  if (nsReady) {
    try {
      const { missing, wrongType } = await attributeState(c, o.namespace);
      for (const { name } of PROJECT_SEARCH_ATTRIBUTES)
        if (!missing.includes(name) && !wrongType.some((w) => w.name === name))
          steps.push({ subject: saSubject(name), outcome: 'present' });
      for (const w of wrongType)
        steps.push({
          subject: saSubject(w.name),
          outcome: 'failed',
          detail: `exists as ${w.type}; sag-rollout needs Keyword (a namespace cannot change a type: remove it first)`,
        });
      attributesMissing = missing;
      if (missing.length > 0 && cloud) {
        for (const name of missing) steps.push({ subject: saSubject(name), outcome: 'missing' });
      } else if (missing.length > 0) {
        try {
          await c.operatorService.addSearchAttributes({
            namespace: o.namespace,
            searchAttributes: Object.fromEntries(
              missing.map((name) => [name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
            ),
          });
          for (const name of missing) steps.push({ subject: saSubject(name), outcome: 'created' });
          attributesMissing = [];
        } catch (err) {
          for (const name of missing)
            steps.push({ subject: saSubject(name), outcome: 'failed', detail: refusal(err) });
        }
      }
      attributesMissing = [...attributesMissing, ...wrongType.map((w) => w.name)];
    } catch (err) {
      steps.push({
        subject: 'search attributes',
        outcome: 'failed',
        detail: `cannot list them: ${refusal(err)}`,
      });
    }
  }
  const ready = steps.every(
    (s) => s.outcome === 'created' || s.outcome === 'updated' || s.outcome === 'present',
  );
  const instructions =
    cloud || !ready
      ? cloud
        ? cloudInstructions(o.namespace, { namespace: nsMissing, attributes: attributesMissing })
        : selfHostedInstructions(o.namespace, { namespace: nsMissing, attributes: attributesMissing })
      : [];
  return { namespace: o.namespace, address: o.address, cloud, steps, ready, instructions };
}

function selfHostedInstructions(namespace: string, missing: { namespace: boolean; attributes: string[] }) {
  const lines: string[] = [];
  if (missing.namespace)
    lines.push(
      `an operator with admin rights on the cluster: temporal operator namespace create --namespace ${namespace} --retention ${DEFAULT_RETENTION_DAYS}d`,
    );
  if (missing.attributes.length > 0)
    lines.push(
      `an operator with admin rights on the cluster: temporal operator search-attribute create --namespace ${namespace} ${missing.attributes.map((a) => `--name ${a} --type Keyword`).join(' ')}`,
    );
  return lines;
}

/** What the worker found missing on its namespace at start-up. */
export class NamespaceNotReadyError extends Error {
  override readonly name = 'NamespaceNotReadyError';
  constructor(
    message: string,
    readonly namespace: string,
    readonly missingNamespace: boolean,
    readonly missingAttributes: string[],
  ) {
    super(message);
  }
}

export interface WorkerNamespaceCheck {
  /** Attributes the worker registered itself. */
  registered: string[];
  /** What could not be checked (e.g. listing refused); the worker starts anyway. */
  warnings: string[];
}

/**
 * The worker's check at start-up: the namespace exists, and every search attribute the
 * workflows write is registered. With `register` (the default on a self-hosted cluster) the
 * worker adds missing attributes itself; without it (Temporal Cloud, where workers cannot), it
 * only checks. Either way it refuses to start on a namespace it cannot run on, naming what is
 * missing and `sag-rollout setup`.
 * @throws NamespaceNotReadyError naming the missing namespace or attributes and how to create them.
 */
export async function checkWorkerNamespace(
  c: NamespaceServices,
  o: { namespace: string; address: string; register: boolean },
): Promise<WorkerNamespaceCheck> {
  const setupHint = `run \`sag-rollout setup --namespace ${o.namespace}\` (with --cloud on Temporal Cloud it prints what to create)`;
  const ns = await describeNamespace(c, o.namespace);
  if (!ns.exists && ns.error === undefined)
    throw new NamespaceNotReadyError(
      `namespace ${o.namespace} does not exist on ${o.address}: ${setupHint}`,
      o.namespace,
      true,
      [],
    );
  const warnings: string[] = [];
  if (ns.error !== undefined)
    warnings.push(`could not describe namespace ${o.namespace}: ${refusal(ns.error)}`);
  let state: Awaited<ReturnType<typeof attributeState>>;
  try {
    state = await attributeState(c, o.namespace);
  } catch (err) {
    warnings.push(`could not list the search attributes of ${o.namespace}: ${refusal(err)}`);
    return { registered: [], warnings };
  }
  if (state.wrongType.length > 0)
    throw new NamespaceNotReadyError(
      `namespace ${o.namespace} holds ${state.wrongType.map((w) => `${w.name} as ${w.type}`).join(', ')}; sag-rollout needs Keyword: ${setupHint}`,
      o.namespace,
      false,
      state.wrongType.map((w) => w.name),
    );
  if (state.missing.length === 0) return { registered: [], warnings };
  const names = state.missing.join(', ');
  if (!o.register)
    throw new NamespaceNotReadyError(
      `namespace ${o.namespace} lacks the search attributes ${names}: ${setupHint}`,
      o.namespace,
      false,
      state.missing,
    );
  try {
    await c.operatorService.addSearchAttributes({
      namespace: o.namespace,
      searchAttributes: Object.fromEntries(
        state.missing.map((name) => [name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (err) {
    throw new NamespaceNotReadyError(
      `namespace ${o.namespace} lacks the search attributes ${names}, and this worker may not add them (${refusal(err)}): ${setupHint}; on Temporal Cloud, create them there and start workers with --no-register-search-attributes`,
      o.namespace,
      false,
      state.missing,
    );
  }
  return { registered: state.missing, warnings };
}
