/**
 * The chaos run's fault schedule, drawn from a seed: a fault on the first upgrade call of chosen
 * serial numbers, of every kind the simulator makes (refused before processing or processed and
 * then answered with an error, lost, cut or late), and a background of transient faults on every
 * other action. Also how to read an upgrade call's answer back from the simulator's request log.
 */
import type { FaultRule, RequestLogEntry } from '../../src/simulator';
import type { ChaosDevice } from './chaos-fleet';
import { between, pick, shuffled, type Random } from './random';

export const UPGRADE_ACTION = 'UpdateSmartAccessGatewayVersion';

/** The simulator's fault kinds; the run checks that each one fired. */
export const FAULT_KINDS = [
  'error',
  'after-error',
  'hang-after',
  'drop-after',
  'hang',
  'drop',
  'latency',
  'html',
] as const;

export interface PlannedFault {
  smartAgId: string;
  serialNumber: string;
  category: string;
  /** The rule's answer in words, e.g. `after-error html 504`. */
  label: string;
  rule: FaultRule;
}

interface Category {
  name: string;
  /** The request is processed (an upgrade accepted) before its answer is replaced, lost or late. */
  processed: boolean;
  make: (
    rand: Random,
    clientTimeoutMs: number,
  ) => { rule: Omit<FaultRule, 'action' | 'serialNumber' | 'nth'>; label: string };
}

/** Alibaba error codes a 5xx answer carries: service faults, and codes that elsewhere are refusals. */
const CODES_5XX = ['ServiceUnavailable', 'InternalError', 'UnknownError', 'Throttling.User', 'SystemBusy'];
/** Codes Alibaba documents as refusals of the upgrade call, here arriving with a 5xx after it was processed. */
const REFUSAL_CODES = [
  'GetSmartAccessGatewayStateError',
  'SignatureNonceUsed',
  'SmartAccessGatewayNotOnline',
];
const STATUSES_5XX = [500, 502, 503, 504];
const LB_STATUSES = [502, 503, 504];
const TEXT_BODIES = [
  '',
  'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  'Bad Gateway',
];

const CATEGORIES: readonly Category[] = [
  {
    name: 'error-json-5xx',
    processed: false,
    make: (r) => {
      const code = pick(r, CODES_5XX);
      const httpStatus = pick(r, STATUSES_5XX);
      return { rule: { kind: 'error', code, httpStatus }, label: `error ${code} ${httpStatus}` };
    },
  },
  {
    name: 'error-html',
    processed: false,
    make: (r) => {
      const httpStatus = pick(r, LB_STATUSES);
      return { rule: { kind: 'error', format: 'html', httpStatus }, label: `error html ${httpStatus}` };
    },
  },
  {
    name: 'error-text',
    processed: false,
    make: (r) => {
      const httpStatus = pick(r, [500, 502, 503]);
      const body = pick(r, TEXT_BODIES);
      return {
        rule: { kind: 'error', format: 'text', httpStatus, body },
        label: `error text ${httpStatus} ${JSON.stringify(body.slice(0, 24))}`,
      };
    },
  },
  {
    name: 'error-json-4xx',
    processed: false,
    make: (r) => {
      const code = pick(r, ['Throttling.User', 'Throttling.Api', 'SignatureNonceUsed']);
      return { rule: { kind: 'error', code, httpStatus: 400 }, label: `error ${code} 400` };
    },
  },
  {
    name: 'html',
    processed: false,
    make: (r) => {
      const httpStatus = pick(r, LB_STATUSES);
      return { rule: { kind: 'html', httpStatus }, label: `html ${httpStatus}` };
    },
  },
  { name: 'hang', processed: false, make: () => ({ rule: { kind: 'hang' }, label: 'hang' }) },
  { name: 'drop', processed: false, make: () => ({ rule: { kind: 'drop' }, label: 'drop' }) },
  {
    name: 'after-error-json',
    processed: true,
    make: (r) => {
      const code = pick(r, CODES_5XX);
      const httpStatus = pick(r, STATUSES_5XX);
      return { rule: { kind: 'after-error', code, httpStatus }, label: `after-error ${code} ${httpStatus}` };
    },
  },
  {
    name: 'after-error-refusal-code',
    processed: true,
    make: (r) => {
      const code = pick(r, REFUSAL_CODES);
      const httpStatus = pick(r, STATUSES_5XX);
      return { rule: { kind: 'after-error', code, httpStatus }, label: `after-error ${code} ${httpStatus}` };
    },
  },
  {
    name: 'after-error-html',
    processed: true,
    make: (r) => {
      const httpStatus = pick(r, STATUSES_5XX);
      return {
        rule: { kind: 'after-error', format: 'html', httpStatus },
        label: `after-error html ${httpStatus}`,
      };
    },
  },
  {
    name: 'after-error-text',
    processed: true,
    make: (r) => {
      const httpStatus = pick(r, [500, 502, 503]);
      const body = pick(r, TEXT_BODIES);
      return {
        rule: { kind: 'after-error', format: 'text', httpStatus, body },
        label: `after-error text ${httpStatus} ${JSON.stringify(body.slice(0, 24))}`,
      };
    },
  },
  {
    name: 'hang-after',
    processed: true,
    make: () => ({ rule: { kind: 'hang-after' }, label: 'hang-after' }),
  },
  {
    name: 'drop-after',
    processed: true,
    make: () => ({ rule: { kind: 'drop-after' }, label: 'drop-after' }),
  },
  {
    name: 'latency-past-timeout',
    processed: true,
    make: (r, timeout) => {
      const latencyMs = Math.round(between(r, timeout * 1.5, timeout * 2.2));
      return {
        rule: { kind: 'latency', latencyMs },
        label: `latency ${latencyMs} ms (past the client timeout)`,
      };
    },
  },
  {
    name: 'latency',
    processed: true,
    make: (r, timeout) => {
      const latencyMs = Math.round(between(r, 100, timeout * 0.6));
      return { rule: { kind: 'latency', latencyMs }, label: `latency ${latencyMs} ms` };
    },
  },
];

export interface FaultPlanOptions {
  /** Devices whose first upgrade call every category must reach at least once (the first rollout's). */
  cover: ChaosDevice[];
  /** Further devices that may draw a fault (the second rollout's). */
  others: ChaosDevice[];
  /** Share of the devices given a fault on their first upgrade call. */
  share: number;
  /** Probability of a fault on any other request, spread over the kinds. */
  backgroundRate: number;
  clientTimeoutMs: number;
  /** Categories left out (`--without`). */
  without: string[];
}

export interface FaultPlan {
  rules: FaultRule[];
  planned: PlannedFault[];
}

/**
 * Draws the schedule. Every category lands on a device of `cover` (one whose download outlasts
 * the settle gets an answer lost after processing), then random categories for the rest of the
 * share. Upgrade calls see only their planned fault, so what each device should end as follows
 * from its answers; the background is on the other actions a rollout uses.
 */
export function planFaults(rand: Random, o: FaultPlanOptions): FaultPlan {
  for (const w of o.without) {
    if (!CATEGORIES.some((c) => c.name === w)) {
      throw new Error(`no fault category ${w}; the categories: ${CATEGORIES.map((c) => c.name).join(', ')}`);
    }
  }
  const categories = CATEGORIES.filter((c) => !o.without.includes(c.name));
  const planned: PlannedFault[] = [];
  const give = (d: ChaosDevice, c: Category) => {
    const { rule, label } = c.make(rand, o.clientTimeoutMs);
    const serialNumber = pick(rand, d.serials);
    planned.push({
      smartAgId: d.smartAgId,
      serialNumber,
      category: c.name,
      label,
      rule: { ...rule, action: UPGRADE_ACTION, serialNumber, nth: [1] },
    });
  };
  const cover = shuffled(rand, o.cover);
  const long = cover.find((d) => d.longDownload);
  const processed = categories.filter((c) => c.processed && !c.name.startsWith('latency'));
  if (long && processed.length > 0) give(long, pick(rand, processed));
  const rest = cover.filter((d) => d !== long);
  for (const c of categories) {
    if (planned.some((p) => p.category === c.name)) continue;
    const d = rest.shift();
    if (d) give(d, c);
  }
  for (const d of shuffled(rand, [...rest, ...o.others])) {
    if (categories.length > 0 && rand() < o.share) give(d, pick(rand, categories));
  }
  return { rules: [...planned.map((p) => p.rule), ...backgroundRules(o.backgroundRate)], planned };
}

/** The actions of a rollout other than the upgrade call: reads, and the idempotent policy write. */
const BACKGROUND_ACTIONS = [
  'DescribeSmartAccessGatewayAttribute',
  'DescribeSmartAccessGatewayVersions',
  'DescribeSmartAccessGatewayHa',
  'DescribeDeviceAutoUpgradePolicy',
  'ModifyDeviceAutoUpgradePolicy',
  'DescribeSAGDeviceInfo',
  'DescribeSmartAccessGateways',
];

/** Transient faults of every kind on every background action, each kind with an equal share of `rate`. */
function backgroundRules(rate: number): FaultRule[] {
  const kinds: FaultRule[] = [
    { kind: 'error', code: 'Throttling.User' },
    { kind: 'error', code: 'ServiceUnavailable' },
    { kind: 'error', format: 'html', httpStatus: 503 },
    { kind: 'error', format: 'text', httpStatus: 502, body: '' },
    { kind: 'html', httpStatus: 502 },
    { kind: 'hang' },
    { kind: 'drop' },
    { kind: 'latency', latencyMs: 300 },
    { kind: 'hang-after' },
    { kind: 'drop-after' },
    { kind: 'after-error' },
    { kind: 'after-error', format: 'html', httpStatus: 504 },
  ];
  if (rate <= 0) return [];
  return BACKGROUND_ACTIONS.flatMap((action) =>
    kinds.map((k) => ({ ...k, action, probability: rate / kinds.length })),
  );
}

/** An upgrade call as its log entry shows it: what the client could tell, and whether it was accepted. */
export interface Answer {
  /**
   * `ambiguous`: a fault cut, lost or replaced the answer with one that is not a 4xx Alibaba
   * refusal, or it came after the client's timeout. Answers the simulator gave on its own (no
   * fault) are the truth: a success or a refusal.
   */
  client: 'success' | 'refusal' | 'ambiguous';
  /** The simulator processed the call and accepted the upgrade, whatever the client saw. */
  accepted: boolean;
}

export function readAnswer(e: RequestLogEntry, clientTimeoutMs: number): Answer {
  switch (e.fault) {
    case 'hang-after':
    case 'drop-after':
      // The log keeps the status the lost answer would have had.
      return { client: 'ambiguous', accepted: e.httpStatus === 200 };
    case 'after-error':
      return {
        client: e.code !== undefined && e.httpStatus < 500 ? 'refusal' : 'ambiguous',
        accepted: e.replaced?.httpStatus === 200,
      };
    case 'hang':
    case 'drop':
    case 'html':
      return { client: 'ambiguous', accepted: false };
    case 'error':
      return {
        client: e.code !== undefined && e.httpStatus < 500 ? 'refusal' : 'ambiguous',
        accepted: false,
      };
    case 'latency':
      if (e.durationMs >= clientTimeoutMs) return { client: 'ambiguous', accepted: e.httpStatus === 200 };
      return { client: e.httpStatus === 200 ? 'success' : 'refusal', accepted: e.httpStatus === 200 };
    default:
      return { client: e.httpStatus === 200 ? 'success' : 'refusal', accepted: e.httpStatus === 200 };
  }
}
