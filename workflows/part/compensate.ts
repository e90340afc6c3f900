import { condition, executeChild, patched } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { deviceUpgradeWorkflow } from '../device';
import { compensationSummary, needsCompensation, serialsAfterCompensation } from '../../domain/compensation';
import type { DeviceStatus, DeviceUpgradeResult } from '../../domain/types';
import { heldMessage, lockHolder, readsHolder } from './held';
import { deviceChildOptions } from './scheduler';
import type { PartState } from './state';

/**
 * Compensates the part's devices whose runs need it (see `needsCompensation`), as many at a time
 * as the pace allows, each by a `compensate` run of its upgrade workflow, and records on each
 * device what compensation did or why it could not.
 */
export async function compensate(part: PartState): Promise<void> {
  const { input } = part;
  part.state = 'compensating';
  const targets = part.statuses
    .map((s, idx) => ({ s, idx, r: part.results[s.smartAgId] }))
    .filter(({ s, r }) => {
      // Compensated once already (a part halted twice): not again.
      if (!r || (s.compensation !== undefined && patched('compensate-once'))) return false;
      return needsCompensation(
        r,
        input.devicePolicy.requestPreviousVersion,
        input.compensateOnly !== undefined,
      );
    });
  let active = 0;
  let next = 0;
  const pending: Promise<void>[] = [];
  while (next < targets.length || active > 0) {
    if (next < targets.length && active < Math.max(1, part.pace.concurrency)) {
      const { s, idx, r } = targets[next++]!;
      const d = part.devices[idx]!;
      active++;
      pending.push(
        executeChild(deviceUpgradeWorkflow, {
          ...deviceChildOptions(input, d),
          args: [
            {
              rolloutId: input.rolloutId,
              device: d,
              policy: input.devicePolicy,
              mode: 'compensate',
              previous: r,
            },
          ],
        })
          .then(
            (c) => compensated(part, s, r!, c),
            (err: unknown) => {
              const held = err instanceof WorkflowExecutionAlreadyStartedError;
              s.compensation = `compensation-failed:${held ? 'HeldByAnotherRollout' : 'DeviceWorkflowFailed'}`;
              s.message = err instanceof Error ? err.message : String(err);
              if (!held || !readsHolder()) return;
              const workflowId = deviceChildOptions(input, d).workflowId;
              return lockHolder(workflowId).then((holder) => {
                s.message = heldMessage(workflowId, holder);
              });
            },
          )
          .finally(() => {
            active--;
            part.changes++;
          }),
      );
      continue;
    }
    const seen = part.changes;
    await condition(() => part.changes !== seen);
  }
  await Promise.all(pending);
}

/** Records what a device's compensation did on its status and result. */
function compensated(part: PartState, s: DeviceStatus, r: DeviceUpgradeResult, c: DeviceUpgradeResult): void {
  const { did, failedWith } = compensationSummary(c);
  // A device whose compensation could not do its work keeps its outcome and says why.
  if (failedWith !== undefined && patched('compensation-outcome')) {
    s.compensation = `compensation-failed:${failedWith}${did ? ` ${did}` : ''}`;
  } else {
    // An unconfirmed device stays so: its upgrade may still be in progress.
    if (s.outcome !== 'unconfirmed') s.outcome = 'compensated';
    s.compensation = did || 'nothing-to-undo';
  }
  if (c.serials.length > 0) s.serials = serialsAfterCompensation(s.serials, c);
  s.requestIds = [...(s.requestIds ?? []), ...c.requestIds];
  part.results[s.smartAgId] = { ...r, compensation: c.compensation };
}
