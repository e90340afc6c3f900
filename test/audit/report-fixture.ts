import { emptyCounts } from '../../domain/counts';
import type { OutcomeCounts, RolloutPolicy } from '../../domain/types';
import type { ReportCall, ReportData } from '../../src/audit/report';

const T0 = Date.UTC(2025, 2, 3, 4, 0, 0, 250);
const min = 60_000;

export const counts = (o: Partial<OutcomeCounts> = {}): OutcomeCounts => ({ ...emptyCounts(), ...o });

const policy: RolloutPolicy = {
  targetVersion: '2.4.0.0',
  versionType: 'Device',
  allowBeta: false,
  canary: { devices: ['sag-c1'] },
  waves: { cumulativePercents: [50, 100] },
  maxPartSize: 500,
  concurrency: 4,
  maxPerMinute: 30,
  failureBudget: { maxFailurePercent: 5, minFailures: 2, maxConsecutiveFailures: 3, onBreach: 'pause' },
  bake: '10m',
  healthRecheck: true,
  approval: 'canary',
  approverMustDiffer: true,
  verify: { timeout: '20m', pollInterval: '15s', consecutivePolls: 2 },
  upgradeSettle: '10m',
  noSignAfterSettle: 'unconfirmed',
  expectedUpgradeTime: '15m',
  offlineRetryDelay: '5m',
  compensation: { repairHaPairs: true, requestPreviousVersion: false },
  autoUpgradeAfter: 'restore',
  windows: [
    { kind: 'recurring', cron: '0 2 * * *', duration: '3h', timeZone: 'Asia/Shanghai', name: 'nightly' },
    { kind: 'once', start: '2025-03-08T00:00:00Z', end: '2025-03-09T00:00:00Z' },
  ],
  freezes: [
    { start: '2025-03-20', end: '2025-03-22', reason: 'quarter <close>' },
    { start: '2025-04-01', end: '2025-04-02' },
  ],
  deadline: '2025-03-31T00:00:00Z',
  requireTicket: true,
  errorOverrides: {},
  webhooks: [{ name: 'ops', format: 'chat' }],
  health: {
    links: true,
    ha: true,
    controller: true,
    diagnosis: false,
    features: ['CreateSmartAccessGatewayIsp'],
    grace: 60_000,
    probes: [
      {
        name: 'branch-web',
        url: 'https://probe.example.com/{SmartAGId}',
        method: 'GET',
        expectStatus: 200,
        timeout: '10s',
        interval: '10s',
        successes: 3,
        failureLimit: 5,
      },
    ],
  },
};

function call(i: number, over: Partial<ReportCall> = {}): ReportCall {
  return {
    t: T0 + 5 * min + i * 1500,
    ms: 40 + i,
    action: i % 3 === 0 ? 'UpdateSmartAccessGatewayVersion' : 'DescribeSmartAccessGatewayAttribute',
    smartAgId: `sag-${i % 4}`,
    serialNumber: `sn-${i % 4}`,
    requestId: `RID-${i}`,
    workflowId: `upgrade/sag-${i % 4}`,
    runId: `run-${i % 4}`,
    ...over,
  };
}

/**
 * A closed-then-resumed rollout that exercises every part of every format: policy with windows,
 * freezes and a deadline, a gate and a change window, follow-ups, warnings, a halt, an HA pair,
 * not-reversible serial numbers, a failure group of more than 50 devices, audit details, refused
 * commands, failed calls with HTTP status, and text that HTML, CSV and spreadsheets must defuse.
 */
export function richReport(callCount = 12): ReportData {
  return {
    rolloutId: 'r<7>&"q"',
    workflowId: 'rollout/r<7>&"q"',
    generatedAt: T0 + 200 * min,
    workflowStatus: 'RUNNING',
    progress: {
      rolloutId: 'r<7>&"q"',
      state: 'paused',
      targetVersion: '2.4.0.0',
      versionType: 'Device',
      operator: "o'neil <ops>",
      ticket: 'CHG-9=1',
      startedAt: T0,
      total: 6,
      counts: counts({ upgraded: 2, failed: 1, compensated: 1, excluded: 1, pending: 1 }),
      currentWave: 1,
      waves: [],
      gate: { kind: 'approval', wave: 2, until: T0 + 300 * min, detail: 'needs <bob>' },
      window: { open: false, closesAt: T0 + 90 * min, nextOpensAt: T0 + 24 * 60 * min },
      failureBudget: {
        failed: 2,
        finished: 4,
        percent: 50,
        limitPercent: 5,
        minFailures: 2,
        consecutive: 2,
        breached: true,
        breaches: 1,
      },
      pace: { concurrency: 4, maxPerMinute: 30 },
      haltReason: 'failure budget breached: 2/4 > 5%',
    },
    policy,
    waves: [
      {
        index: 0,
        name: 'canary',
        size: 1,
        state: 'done',
        counts: counts({ upgraded: 1 }),
        startedAt: T0 + min,
        finishedAt: T0 + 12 * min,
        bakeUntil: T0 + 22 * min,
        devices: ['sag-c1'],
      },
      {
        index: 1,
        name: 'wave-1',
        size: 4,
        state: 'halted',
        counts: counts({ upgraded: 1, failed: 1, compensated: 1, excluded: 1 }),
        startedAt: T0 + 30 * min,
        devices: ['sag-ha', 'sag-f', '=cmd|calc', 'sag-x'],
      },
      {
        index: 2,
        name: 'wave-2',
        size: 1,
        state: 'pending',
        counts: counts({ pending: 1 }),
        devices: ['sag-p'],
      },
    ],
    audit: [
      { seq: 1, at: T0, kind: 'started', by: "o'neil <ops>", detail: { ticket: 'CHG-9=1', devices: 6 } },
      { seq: 2, at: T0 + 12 * min, kind: 'gate-waiting', wave: 1, detail: { gate: 'approval', none: null } },
      {
        seq: 3,
        at: T0 + 14 * min,
        kind: 'approve-refused',
        by: "o'neil <ops>",
        reason: 'approver must differ',
      },
      { seq: 4, at: T0 + 15 * min, kind: 'approve', by: 'bob', reason: 'canary <healthy>', wave: 1 },
      {
        seq: 5,
        at: T0 + 31 * min,
        kind: 'exclude',
        by: 'carol',
        reason: '<script>alert(1)</script>',
        smartAgId: 'sag-x',
      },
      { seq: 6, at: T0 + 40 * min, kind: 'device-failed', smartAgId: 'sag-f', detail: { code: 'X', e: '' } },
      { seq: 7, at: T0 + 41 * min, kind: 'halted', reason: 'failure budget', detail: { breached: true } },
    ],
    devices: [
      {
        smartAgId: 'sag-c1',
        regionId: 'cn-shanghai',
        wave: 0,
        outcome: 'upgraded',
        serials: [{ serialNumber: 'snc1', from: '2.3.0.0', to: '2.4.0.0' }],
        requestIds: ['RID-0'],
        health: { regressions: [], notes: [], probes: [] },
        runs: [
          {
            workflowId: 'upgrade/sag-c1',
            runId: 'run-c1',
            mode: 'upgrade',
            status: 'COMPLETED',
            startedAt: T0 + min,
            closedAt: T0 + 11 * min,
            calls: 4,
            reportedCalls: 4,
            outcome: 'upgraded',
          },
        ],
      },
      {
        smartAgId: 'sag-ha',
        regionId: 'cn-hangzhou',
        wave: 1,
        outcome: 'compensated',
        serials: [
          { serialNumber: 'snha-m', role: 'master', from: '2.3.0.0', to: '2.3.0.0' },
          { serialNumber: 'snha-b', role: 'backup', from: '2.3.0.0' },
        ],
        compensation: 'ha-repaired:snha-b; not-reversible:snha-m:VersionTooOld:RID-9',
        requestIds: ['RID-3', 'RID-9'],
        notReversible: [
          { serialNumber: 'snha-m', version: '2.3.0.0', code: 'VersionTooOld', requestId: 'RID-9' },
        ],
        runs: [
          {
            workflowId: 'upgrade/sag-ha',
            runId: 'run-ha1',
            mode: 'upgrade',
            status: 'COMPLETED',
            startedAt: T0 + 30 * min,
            calls: 5,
          },
          {
            workflowId: 'upgrade/sag-ha',
            runId: 'run-ha2',
            mode: 'compensate',
            status: 'COMPLETED',
            startedAt: T0 + 42 * min,
            calls: 2,
          },
        ],
      },
      {
        smartAgId: 'sag-f',
        regionId: 'cn-hangzhou',
        wave: 1,
        outcome: 'failed',
        phase: 'verify',
        errorCode: 'UpgradeReverted',
        message: 'device came back on "2.3.0.0", not 2.4.0.0',
        serials: [{ serialNumber: 'snf', from: '2.3.0.0', to: '2.3.0.0' }],
        notReversible: [{ serialNumber: 'snf', version: '2.3.0.0', code: 'VersionTooOld' }],
        runs: [],
      },
      {
        smartAgId: '=cmd|calc',
        regionId: '+cn',
        wave: 1,
        outcome: 'skipped',
        errorCode: 'AlreadyOnTarget',
        message: '-1 devices, line one\nline two',
        serials: [],
        runs: [],
      },
      {
        smartAgId: 'sag-h',
        regionId: 'cn-shanghai',
        wave: 1,
        outcome: 'failed',
        phase: 'health',
        errorCode: 'HealthCheckFailed',
        message: 'sag-h: on the target, but worse than before the upgrade: links ccn-01: Active → Inactive',
        serials: [{ serialNumber: 'snh', from: '2.3.0.0', to: '2.4.0.0' }],
        health: {
          regressions: [{ check: 'links', subject: 'ccn-01', before: 'Active', after: 'Inactive' }],
          notes: [{ check: 'link-backup', subject: 'wan2', before: 'down', after: 'down' }],
          probes: [{ name: 'branch-web', passed: false, evidence: 'HTTP 503 <down> 5 times in a row' }],
        },
        runs: [],
      },
      {
        smartAgId: 'sag-x',
        regionId: 'cn-shanghai',
        wave: 1,
        outcome: 'excluded',
        message: '<script>alert(1)</script>',
        serials: [],
        runs: [],
      },
      { smartAgId: 'sag-p', regionId: 'cn-shanghai', wave: 7, outcome: 'pending', serials: [], runs: [] },
    ],
    calls: Array.from({ length: callCount }, (_, i) =>
      i === 4
        ? call(i, { code: 'Throttling.User', httpStatus: 400 })
        : i === 7
          ? call(i, { code: 'ServiceUnavailable', smartAgId: undefined, serialNumber: undefined })
          : i === 8
            ? call(i, { requestId: undefined, workflowId: 'rollout/r<7>&"q"', runId: 'run-r' })
            : call(i),
    ),
    failures: [
      { code: 'UpgradeReverted', phases: ['verify'], count: 1, devices: ['sag-f'] },
      { code: 'HealthCheckFailed', phases: ['health'], count: 1, devices: ['sag-h'] },
      {
        code: 'Unknown',
        phases: ['upgrade', 'inspect'],
        count: 53,
        devices: Array.from({ length: 53 }, (_, i) => `sag-u${i}`),
      },
    ],
    followUpOf: 'r-prev',
    followUps: ['r-next<1>', 'r-next-2'],
    warnings: ['history of upgrade/sag-z run z could not be read: <gone>'],
  };
}
