import type { ReportData } from '../types';
import { finishedAt } from './format';

/**
 * JSON Lines, a record at a time without its line break: each with a `type`: `summary` (first),
 * then `wave`, `audit`, `device` and `call` records. Instants are ms since epoch, as in the
 * workflows.
 */
export function* jsonlLines(data: ReportData): Generator<string> {
  const { progress } = data;
  yield JSON.stringify({
    type: 'summary',
    rolloutId: data.rolloutId,
    workflowId: data.workflowId,
    generatedAt: data.generatedAt,
    workflowStatus: data.workflowStatus,
    state: progress.state,
    targetVersion: progress.targetVersion,
    versionType: progress.versionType,
    operator: progress.operator,
    ticket: progress.ticket,
    startedAt: progress.startedAt,
    finishedAt: finishedAt(data),
    total: progress.total,
    counts: progress.counts,
    failureBudget: progress.failureBudget,
    haltReason: progress.haltReason,
    calls: data.calls.length,
    failures: data.failures,
    policy: data.policy,
    followUpOf: data.followUpOf,
    followUps: data.followUps,
    warnings: data.warnings,
  });
  for (const w of data.waves) yield JSON.stringify({ type: 'wave', ...w });
  for (const a of data.audit) yield JSON.stringify({ type: 'audit', ...a });
  for (const d of data.devices) yield JSON.stringify({ type: 'device', ...d });
  for (const c of data.calls) yield JSON.stringify({ type: 'call', ...c });
}

/** {@link jsonlLines} as one text, a line each. */
export function renderJsonl(data: ReportData): string {
  return `${[...jsonlLines(data)].join('\n')}\n`;
}
