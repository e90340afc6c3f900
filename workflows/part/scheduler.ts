import { ParentClosePolicy, WorkflowIdReusePolicy, executeChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { rolloutStep } from '../activity-options';
import { deviceUpgradeWorkflow } from '../device';
import { SA_ROLLOUT_ID, SA_SMART_AG_ID } from '../search-attributes';
import { deviceWorkflowId } from '../../domain/ids';
import { markFinished, markStarted, pickNext, windowWait, type NextStart } from '../../domain/schedule';
import type { InventoryDevice, WindowInstant } from '../../domain/types';
import { lockHolder, readsHolder } from './held';
import type { PartState } from './state';
import type { WavePartInput } from './types';

const WINDOW_HORIZON_MS = 8 * 24 * 3600_000;

/**
 * The change windows of a part's devices. Window instants come from an activity (time-zone rules
 * live in the runtime's ICU data, which changes with Node upgrades); recorded in history, replay
 * never recomputes them.
 */
export class Windows {
  readonly windowed: boolean;
  /** When the instants computed last must be computed again. */
  until = 0;
  private profiles: Record<string, WindowInstant[]> = {};
  private profileOf: Record<string, string> = {};

  constructor(private readonly input: WavePartInput) {
    this.windowed = input.windows.length > 0 || input.freezes.length > 0;
  }

  async refresh(now: number): Promise<void> {
    const r = await rolloutStep.computeWindows({
      windows: this.input.windows,
      freezes: this.input.freezes,
      fromMs: now,
      untilMs: now + WINDOW_HORIZON_MS,
      devices: this.input.devices.map((d) => ({
        smartAgId: d.smartAgId,
        regionId: d.regionId,
        group: d.group,
        tags: d.tags,
      })),
    });
    this.profiles = r.profiles;
    this.profileOf = r.deviceProfile;
    this.until = now + WINDOW_HORIZON_MS / 2;
  }

  /** 0 when the device may start now, else the instant its window next opens with room enough. */
  waitOf(d: InventoryDevice, now: number): number {
    if (!this.windowed) return 0;
    const instants = this.profiles[this.profileOf[d.smartAgId] ?? ''] ?? [];
    return windowWait(d, instants, this.input.expectedUpgradeMs, now);
  }
}

/** The next device the part may start at `now` (see `pickNext`); notes when a window opens next. */
export function nextStart(part: PartState, windows: Windows, now: number): NextStart {
  const next = pickNext(
    part.schedule,
    part.devices,
    part.pace,
    part.input.caps,
    (idx) => windows.waitOf(part.devices[idx]!, now),
    now,
  );
  if (next.kind === 'wait' && next.scanned) part.nextWindowAt = next.until;
  return next;
}

/**
 * A device's workflow: its upgrade lock `upgrade/<SmartAGId>`, abandoned on parent close so that
 * closing the rollout (abort) never terminates a device mid-upgrade.
 */
export function deviceChildOptions(input: WavePartInput, d: InventoryDevice) {
  return {
    workflowId: deviceWorkflowId(d.smartAgId),
    taskQueue: input.taskQueue,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: [
      { key: SA_ROLLOUT_ID, value: input.rolloutId },
      { key: SA_SMART_AG_ID, value: d.smartAgId },
    ],
  };
}

/** Starts device `idx`'s upgrade workflow; its result is recorded when it ends. */
export function startDevice(part: PartState, idx: number, now: number): void {
  const { input } = part;
  const d = part.devices[idx]!;
  markStarted(part.schedule, d, idx, now);
  part.statuses[idx]!.outcome = 'in-progress';
  void executeChild(deviceUpgradeWorkflow, {
    ...deviceChildOptions(input, d),
    args: [
      {
        rolloutId: input.rolloutId,
        device: d,
        policy: input.devicePolicy,
        mode: 'upgrade',
        ...(part.priors[d.smartAgId] ? { prior: part.priors[d.smartAgId] } : {}),
        ...(input.operatorRetry ? { operatorRetry: true } : {}),
      },
    ],
  })
    .then(
      (r) => part.record(idx, r),
      (err: unknown) => {
        const held = err instanceof WorkflowExecutionAlreadyStartedError;
        const workflowId = deviceWorkflowId(d.smartAgId);
        // The device stays in flight while its holder is read, so the part cannot end before the
        // device is recorded.
        if (held && readsHolder())
          return lockHolder(workflowId).then((holder) =>
            part.childFailed(idx, true, workflowId, err, holder),
          );
        part.childFailed(idx, held, workflowId, err);
      },
    )
    .finally(() => {
      markFinished(part.schedule, d);
      part.changes++;
    });
}
