/**
 * What `start` shows before it asks (and, with `--yes` on a terminal, what it was told to start):
 * the waves with their sizes, the next change window, the pace, the failure budget, the
 * estimated duration, the workers, the held devices and the running rollouts that share devices of
 * the inventory. The per-device preflight is `plan`'s.
 */
import type { RolloutPolicy } from '../../../domain/types';
import type { PlanEstimate } from '../../operator/plan-estimate';
import type { PlanWindow } from '../../operator/plan-window';
import {
  describeHeld,
  describeOverlaps,
  otherTargets,
  rolloutsUnread,
  type StartChecks,
} from '../../operator/start-checks';
import { estimateText, paceText, windowText } from './plan-lines';
import { formatSpan, plural, renderTable } from './table';

/** The data of the summary, gathered by `start` without reading any device. */
export interface StartSummary {
  rolloutId: string;
  policy: RolloutPolicy;
  devices: number;
  waves: { name: string; size: number }[];
  window: PlanWindow;
  /** From the wave sizes: every device taken to be upgraded. */
  estimate: PlanEstimate;
  checks: StartChecks;
  taskQueue: string;
  operator: string;
  ticket?: string;
}

/** The summary as lines for the terminal, ending before the question. */
export function renderStartSummary(s: StartSummary): string {
  const p = s.policy;
  return [
    `start rollout ${s.rolloutId}: ${plural(s.devices, 'device')} to ${p.targetVersion} (${p.versionType}) in ${plural(s.waves.length, 'wave')}, by ${s.operator}${s.ticket ? `, ticket ${s.ticket}` : ''}`,
    '',
    renderTable(
      ['WAVE', 'DEVICES', 'EST.'],
      s.waves.map((w, i) => [w.name, w.size, formatSpan(s.estimate.wavesMs[i] ?? 0)]),
    ),
    '',
    `window: ${windowText(s.window)}`,
    `pace: ${paceText(p, s.estimate.expectedUpgradeMs)}`,
    `failure budget: ${budgetRulesText(
      p.failureBudget,
      s.waves.some((w) => w.name === 'canary'),
    )}`,
    `estimated duration: ${estimateText(s.estimate, s.waves.length, 'every device upgraded')}`,
    `workers: ${workersText(s.checks.workers, s.taskQueue)}`,
    ...heldLines(s.checks),
    ...rolloutLines(s.checks, p.targetVersion, p.versionType),
    'preflight: not run here; what the rollout would do with each device (upgrade, skip, fail, defer):',
    '  sag-rollout plan with the same inventory and policy (read-only; it reads every device)',
  ].join('\n');
}

/** When the budget halts the rollout, in the words of docs/policy.md. */
function budgetRulesText(fb: RolloutPolicy['failureBudget'], canary: boolean): string {
  const rules = [
    `more than ${fb.maxFailurePercent}% of the finished devices failed, at least ${plural(fb.minFailures, 'device')}`,
    ...(fb.maxConsecutiveFailures > 0 ? [`${fb.maxConsecutiveFailures} failed in a row`] : []),
    ...(canary ? ['a canary device failed'] : []),
  ];
  return `${fb.onBreach} when ${rules.join('; or ')}`;
}

function workersText(workers: number, taskQueue: string): string {
  if (workers < 0) return `unknown (the server did not say who polls task queue ${taskQueue})`;
  if (workers === 0)
    return `none polls task queue ${taskQueue}: the rollout would wait until one starts (sag-rollout worker --task-queue ${taskQueue})`;
  return `${workers} polling task queue ${taskQueue}`;
}

/** The held devices, one line per holding rollout. */
function heldLines(c: StartChecks): string[] {
  if (c.heldUnknown !== undefined) return [`held: unknown (${c.heldUnknown})`];
  if (c.held.length === 0) return ['held: none (no running rollout holds a device of the inventory)'];
  return [
    `held: ${c.held.length} of the devices, by running rollouts: reported HeldByAnotherRollout, not touched`,
    ...describeHeld(c.held, 10).map((h) => `  ${h}`),
  ];
}

/** The running rollouts with devices of the inventory, one line each; another target stands out. */
function rolloutLines(c: StartChecks, targetVersion: string, versionType: string): string[] {
  if (c.rolloutsUnknown !== undefined) return [`running rollouts: unknown (${c.rolloutsUnknown})`];
  const unread = rolloutsUnread(c);
  const tail = unread !== undefined ? [`  ${unread}`] : [];
  const o = c.rollouts.overlaps;
  if (o.length === 0)
    return [`running rollouts: none has a device of the inventory in its inventory`, ...tail];
  const other = otherTargets(c, targetVersion, versionType);
  return [
    `running rollouts: ${plural(o.length, 'rollout')} ${o.length === 1 ? 'has' : 'have'} devices of the inventory: the rollouts race for them (whichever reaches a device first upgrades it)`,
    ...describeOverlaps(c, targetVersion, versionType).map((l) => `  ${l}`),
    ...other.map(
      (r) =>
        `  ANOTHER TARGET VERSION: rollout ${r.rolloutId} upgrades to ${r.targetVersion}, this one to ${targetVersion}: a device both reach ends on whichever version reached it last`,
    ),
    ...tail,
  ];
}
