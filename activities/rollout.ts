import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { InputError } from '../src/config/errors';
import { howToConfigure, lookupWebhook, webhookUrlVar, type WebhookDirectory } from '../src/config/webhooks';
import { checkFeasible, matchesSelector, windowInstants, type SelectableDevice } from '../src/windows';
import type {
  ChangeWindow,
  FreezePeriod,
  RolloutPolicy,
  WebhookTarget,
  WindowInstant,
} from '../domain/types';

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

export interface ReadLockHolderInput {
  /** A device's upgrade lock: `upgrade/<SmartAGId>`. */
  workflowId: string;
}

export interface ReadLockHolderResult {
  /** The rollout the running workflow belongs to; absent when none runs now or none is named. */
  rolloutId?: string;
}

export interface CheckWebhooksInput {
  names: string[];
}

export interface CheckWebhooksResult {
  /** The names this worker cannot resolve. */
  unknown: string[];
}

export interface RolloutActivityDeps {
  /** Writes the rollout's report files when it closes; returns their paths. */
  exportReport: (input: ExportReportInput) => Promise<string[]>;
  /** Webhook delivery; defaults to global fetch. */
  fetch: typeof fetch;
  /** The worker's webhooks by name, read from its environment or file at start (none by default). */
  webhooks: WebhookDirectory;
  /** Which rollout runs a device's upgrade workflow now (see `readLockHolder` in src/temporal). */
  readLockHolder: (workflowId: string) => Promise<string | undefined>;
}

/** Activities of the rollout itself: window instants, notifications, the closing report. */
export function createRolloutActivities(deps: Partial<RolloutActivityDeps>) {
  const doFetch = deps.fetch ?? fetch;
  const directory: WebhookDirectory = deps.webhooks ?? {};

  /**
   * Where a target goes: a name resolves through the worker's directory at delivery time; a URL
   * comes only from rollouts started before webhooks were named.
   */
  function endpointOf(hook: WebhookTarget): { label: string; url: string; headers: Record<string, string> } {
    if (hook.name !== undefined) {
      const e = lookupWebhook(directory, hook.name);
      if (!e) {
        log.error('webhook not configured on this worker', {
          webhook: hook.name,
          expected: webhookUrlVar(hook.name),
        });
        throw ApplicationFailure.nonRetryable(
          `webhook ${hook.name} is not configured on this worker: ${howToConfigure(hook.name)}`,
          'WebhookNotConfigured',
        );
      }
      return { label: hook.name, url: e.url, headers: e.headers };
    }
    if (hook.url) return { label: 'given by URL in the policy', url: hook.url, headers: {} };
    throw ApplicationFailure.nonRetryable(
      'a webhook of the policy has neither a name nor a URL',
      'WebhookNotConfigured',
    );
  }
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
    async checkWindowsFeasible(input: {
      policy: RolloutPolicy;
      nowMs: number;
    }): Promise<{ firstStart: number }> {
      try {
        return { firstStart: checkFeasible(input.policy, input.nowMs) };
      } catch (err) {
        if (err instanceof InputError) throw ApplicationFailure.nonRetryable(err.message, 'ImpossibleWindow');
        throw err;
      }
    },

    /**
     * Posts a rollout event to each webhook that wants it: generic JSON, or a chat-style `{text}`.
     * A named webhook is resolved here, on the worker, so its URL and headers never enter history;
     * failure messages name the webhook, never its URL (they are recorded in history).
     * @throws ApplicationFailure `WebhookNotConfigured` (non-retryable) for a name this worker
     *   does not know; `WebhookFailed` (retryable) for a non-2xx answer, no answer or no connection.
     */
    async notify(input: NotifyInput): Promise<{ delivered: number }> {
      let delivered = 0;
      for (const hook of input.webhooks) {
        if (hook.events?.length && !hook.events.includes(input.event)) continue;
        const target = endpointOf(hook);
        const body =
          hook.format === 'chat'
            ? { msgtype: 'text', text: { content: chatLine(input) }, text_plain: chatLine(input) }
            : {
                event: input.event,
                rolloutId: input.rolloutId,
                at: new Date(input.at).toISOString(),
                detail: input.detail,
              };
        let res: Response;
        try {
          res = await doFetch(target.url, {
            method: 'POST',
            headers: { ...target.headers, 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(10_000),
          });
        } catch (err) {
          // Not the error itself: a fetch error's message may quote the URL.
          throw ApplicationFailure.retryable(
            `webhook ${target.label}: ${fetchFailure(err)}`,
            'WebhookFailed',
          );
        }
        if (!res.ok)
          throw ApplicationFailure.retryable(
            `webhook ${target.label} answered HTTP ${res.status}`,
            'WebhookFailed',
          );
        delivered++;
      }
      return { delivered };
    },

    /** Which of the named webhooks this worker cannot resolve (`start` asks before it starts a rollout). */
    async checkWebhooks(input: CheckWebhooksInput): Promise<CheckWebhooksResult> {
      return { unknown: input.names.filter((n) => !lookupWebhook(directory, n)) };
    },

    /**
     * Which rollout holds a device's upgrade lock, for the part that could not start the device's
     * workflow because it runs already. Without a Temporal client (the CLI's `plan`) nobody is named.
     * @throws ApplicationFailure `LockHolderUnreadable` (retryable) when the server cannot be asked.
     */
    async readLockHolder(input: ReadLockHolderInput): Promise<ReadLockHolderResult> {
      if (!deps.readLockHolder) return {};
      let rolloutId: string | undefined;
      try {
        rolloutId = await deps.readLockHolder(input.workflowId);
      } catch (err) {
        throw ApplicationFailure.retryable(
          `cannot read who runs ${input.workflowId}: ${err instanceof Error ? err.message : String(err)}`,
          'LockHolderUnreadable',
        );
      }
      return rolloutId !== undefined ? { rolloutId } : {};
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

/** Why a webhook request got no answer, from the error's name and code only. */
function fetchFailure(err: unknown): string {
  const e = err as { name?: unknown; cause?: { code?: unknown } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer within 10 s';
  const code = e.cause?.code;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code)
    ? `no connection (${code})`
    : 'the request failed';
}

function chatLine(input: NotifyInput): string {
  const parts = Object.entries(input.detail)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  return `[sag-rollout] ${input.rolloutId}: ${input.event}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
