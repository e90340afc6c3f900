import type { SagClient } from '../src/sag/types';
import type { CallRecord } from '../domain/device-types';
import { resolveCodePolicy } from '../domain/error-policy';
import type { CodeOverrides } from '../domain/types';

/** Attempts of one idempotent call within an activity before its failure leaves the activity. */
export const CALL_ATTEMPTS = 3;
const CALL_RETRY_BASE_MS = 250;
/** Throttling asks for a longer pause than a lost answer. */
const THROTTLED_RETRY_BASE_MS = 1000;
/** Never retried in place: it has no idempotency token (the workflow decides, see device.ts). */
const NOT_RETRIED: ReadonlySet<keyof SagClient> = new Set(['updateSmartAccessGatewayVersion']);

/** The smartag action behind each client method, for the audit trail. */
const ACTIONS: Record<keyof SagClient, string> = {
  describeSmartAccessGateways: 'DescribeSmartAccessGateways',
  describeSmartAccessGatewayAttribute: 'DescribeSmartAccessGatewayAttribute',
  describeSmartAccessGatewayVersions: 'DescribeSmartAccessGatewayVersions',
  describeSmartAccessGatewayHa: 'DescribeSmartAccessGatewayHa',
  describeDeviceAutoUpgradePolicy: 'DescribeDeviceAutoUpgradePolicy',
  modifyDeviceAutoUpgradePolicy: 'ModifyDeviceAutoUpgradePolicy',
  describeSagDeviceInfo: 'DescribeSAGDeviceInfo',
  getSmartAgDpiAttribute: 'GetSmartAGDpiAttribute',
  updateSmartAccessGatewayVersion: 'UpdateSmartAccessGatewayVersion',
  diagnoseSmartAccessGateway: 'DiagnoseSmartAccessGateway',
  describeDiagnosisReport: 'DiscribeSmartAccessGatewayDiagnosisReport',
  listUnsupportedFeatures: 'ListSmartAGApiUnsupportedFeature',
  describeRegions: 'DescribeRegions',
};

/** Where a method's serial-number argument is, so each record names its device. */
function serialOf(method: keyof SagClient, args: unknown[]): string | undefined {
  switch (method) {
    case 'describeDeviceAutoUpgradePolicy':
    case 'describeSagDeviceInfo':
    case 'diagnoseSmartAccessGateway':
    case 'describeDiagnosisReport':
    case 'listUnsupportedFeatures':
      return typeof args[2] === 'string' ? args[2] : undefined;
    case 'describeSmartAccessGatewayVersions':
      return typeof args[3] === 'string' ? args[3] : undefined;
    case 'modifyDeviceAutoUpgradePolicy':
    case 'updateSmartAccessGatewayVersion':
      return (args[0] as { serialNumber?: string }).serialNumber;
    default:
      return undefined;
  }
}

export interface RecordingClient {
  client: SagClient;
  calls: CallRecord[];
}

/** Whether a failed call may be sent again at once: a transient service fault under the rollout's policy. */
function retriedInPlace(code: string, overrides: CodeOverrides | undefined): boolean {
  const p = resolveCodePolicy(code, overrides);
  return p.class === 'service' && p.persistence === 'transient' && p.action === 'retry';
}

export interface RecordingOptions {
  /** The rollout's error-code overrides: a code made permanent there is not sent again. */
  overrides?: CodeOverrides;
  /** Off for pollers, whose next poll is the retry. Default on. */
  retryInPlace?: boolean;
}

/**
 * Wraps a client so every call of one activity invocation is recorded: action, serial number,
 * RequestId, error code and timing. The records travel in the activity's result into history.
 *
 * An idempotent call that fails with a transient service code (throttling, 5xx, a lost or
 * unreadable answer) is sent again up to {@link CALL_ATTEMPTS} times with a short jittered
 * backoff, each attempt recorded, so one lost answer does not repeat every call the activity
 * already made. The upgrade call is never sent again here.
 */
export function recording(inner: SagClient, options: RecordingOptions = {}): RecordingClient {
  const { overrides, retryInPlace = true } = options;
  const calls: CallRecord[] = [];
  const client = {} as Record<keyof SagClient, unknown>;
  for (const method of Object.keys(ACTIONS) as (keyof SagClient)[]) {
    const fn = (inner[method] as (...a: unknown[]) => Promise<{ requestId?: string }>).bind(inner);
    const attempt = async (args: unknown[]) => {
      const t = Date.now();
      const rec: CallRecord = { a: ACTIONS[method], t, ms: 0 };
      const sn = serialOf(method, args);
      if (sn) rec.sn = sn;
      calls.push(rec);
      try {
        const result = await fn(...args);
        if (result && typeof result.requestId === 'string') rec.rid = result.requestId;
        return result;
      } catch (err) {
        const e = err as { code?: unknown; httpStatus?: unknown; requestId?: unknown };
        if (typeof e.code === 'string') rec.code = e.code;
        if (typeof e.httpStatus === 'number') rec.st = e.httpStatus;
        if (typeof e.requestId === 'string') rec.rid = e.requestId;
        throw err;
      } finally {
        rec.ms = Date.now() - t;
      }
    };
    client[method] = async (...args: unknown[]) => {
      for (let n = 1; ; n++) {
        try {
          return await attempt(args);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          const again =
            retryInPlace &&
            n < CALL_ATTEMPTS &&
            !NOT_RETRIED.has(method) &&
            typeof code === 'string' &&
            retriedInPlace(code, overrides);
          if (!again) throw err;
          const delay =
            (code.startsWith('Throttling') ? THROTTLED_RETRY_BASE_MS : CALL_RETRY_BASE_MS) * 2 ** (n - 1);
          await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
        }
      }
    };
  }
  return { client: client as unknown as SagClient, calls };
}
