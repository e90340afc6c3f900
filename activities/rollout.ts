import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { InputError } from '../src/config/errors';
import { checkFeasible, matchesSelector, windowInstants, type SelectableDevice } from '../src/windows';
import type { ChangeWindow, FreezePeriod, RolloutPolicy, WebhookTarget, WindowInstant } from '../workflows/types';

export interface ComputeWindowsInput {
  windows: ChangeWindow[];
  freezes: FreezePeriod[];
  fromMs: number;
  untilMs: number;
  devices: SelectableDevice[];
}

export interface ComputeWindowsResult {
  /** Open periods per profile: devices to which the same windows and freezes apply share one. */
  profiles: Record<string, WindowInstant[]>;
  deviceProfile: Record<string, string>;
}

export interface NotifyInput {
  webhooks: WebhookTarget[];
  event: string;
  rolloutId: string;
  detail: Record<string, string | number | boolean | undefined>;
  at: number;
}

export interface ExportReportInput {
  rolloutId: string;
  workflowId: string;
}

export interface RolloutActivityDeps {
  /** Writes the rollout's report files when it closes; returns their paths. */
  exportReport: (input: ExportReportInput) => Promise<string[]>;
  /** Webhook delivery; defaults to global fetch. */
  fetch: typeof fetch;
}

/** Activities of the rollout itself: window instants, notifications, the closing report. */
export function createRolloutActivities(deps: Partial<RolloutActivityDeps>) {
  const doFetch = deps.fetch ?? fetch;
  return {
    /**
     * Computes open periods of the change windows minus freezes, per device profile. Runs in an
     * activity because time-zone rules come from the runtime's ICU data; the result is recorded
     * in history, so replay never depends on them.
     * @throws ApplicationFailure `InvalidWindow` (non-retryable) when a window cannot be read.
     */
    async computeWindows(input: ComputeWindowsInput): Promise<ComputeWindowsResult> {
      const profiles: Record<string, WindowInstant[]> = {};
      const deviceProfile: Record<string, string> = {};
      try {
        for (const d of input.devices) {
          const w = input.windows.flatMap((x, i) => (matchesSelector(x.appliesTo, d) ? [i] : []));
          const f = input.freezes.flatMap((x, i) => (matchesSelector(x.appliesTo, d) ? [i] : []));
          const key = `w${w.join(',')}|f${f.join(',')}`;
          deviceProfile[d.smartAgId] = key;
          profiles[key] ??= windowInstants(input.windows, input.freezes, input.fromMs, input.untilMs, d);
        }
      } catch (err) {
        if (err instanceof InputError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidWindow');
        throw err;
      }
      return { profiles, deviceProfile };
    },

    /**
     * Refuses a policy whose windows never open before its deadline.
     * @throws ApplicationFailure `ImpossibleWindow` (non-retryable).
     */
    async checkWindowsFeasible(input: { policy: RolloutPolicy; nowMs: number }): Promise<{ firstStart: number }> {
      try {
        return { firstStart: checkFeasible(input.policy, input.nowMs) };
      } catch (err) {
        if (err instanceof InputError) throw ApplicationFailure.nonRetryable(err.message, 'ImpossibleWindow');
        throw err;
      }
    },

    /** Posts a rollout event to each webhook that wants it: generic JSON, or a chat-style `{text}`. */
    async notify(input: NotifyInput): Promise<{ delivered: number }> {
      let delivered = 0;
      for (const hook of input.webhooks) {
        if (hook.events?.length && !hook.events.includes(input.event)) continue;
        const body =
          hook.format === 'chat'
            ? { msgtype: 'text', text: { content: chatLine(input) }, text_plain: chatLine(input) }
            : { event: input.event, rolloutId: input.rolloutId, at: new Date(input.at).toISOString(), detail: input.detail };
        const res = await doFetch(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw ApplicationFailure.retryable(`webhook answered HTTP ${res.status}`, 'WebhookFailed');
        delivered++;
      }
      return { delivered };
    },

    /** Writes the report files when a rollout closes (the report must outlive history retention). */
    async exportReport(input: ExportReportInput): Promise<{ files: string[] }> {
      if (!deps.exportReport) return { files: [] };
      const files = await deps.exportReport(input);
      log.info('report exported', { rolloutId: input.rolloutId, files: files.length });
      return { files };
    },
  };
}

function chatLine(input: NotifyInput): string {
  const parts = Object.entries(input.detail)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  return `[sag-rollout] ${input.rolloutId}: ${input.event}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
