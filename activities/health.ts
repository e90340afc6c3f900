import { heartbeat } from '@temporalio/activity';
import type { CallRecord } from '../domain/device-types';
import type { HealthChecks, HealthReading } from '../domain/health';
import type { CodeOverrides } from '../domain/types';
import type { SagClient } from '../src/sag/types';
import { fail } from './fail';
import { recording } from './recording';

export interface ReadHealthInput {
  regionId: string;
  smartAgId: string;
  /** Every serial number of the instance. */
  serials: string[];
  checks: HealthChecks;
  /** How long to wait for a diagnosis report to finish (default 90 s). */
  diagnosisWaitMs?: number;
  /** How often to ask for the report while the diagnosis runs (default 5 s). */
  diagnosisPollMs?: number;
  /**
   * A report that says it started more than this before the Diagnose call is the previous one
   * (default 60 s: the clocks' skew; the report's StartTime has one-second resolution).
   */
  diagnosisSkewMs?: number;
  overrides?: CodeOverrides;
}

export interface ReadHealthResult {
  reading: HealthReading;
  calls: CallRecord[];
}

/** A diagnosis that had not finished within the wait, as the item the report lists. */
export const UNFINISHED_DIAGNOSIS = 'DiagnosisUnfinished';
/** A diagnosis that ended in a failed state, as the item the report lists. */
export const FAILED_DIAGNOSIS = 'DiagnosisFailed';

/** The report's failed ends (the SDK model's `State` values). */
const FAILED_STATES = new Set(['failed', 'error', 'upload_to_sls_fail']);
/** How far before the Diagnose call a report may say it started and still be this call's (clock skew). */
const SKEW_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The health reads of the built-in checks: links, HA link backup, controller, diagnosis, features. */
export function createHealthActivities(deps: { client: SagClient }) {
  async function diagnose(
    client: SagClient,
    input: ReadHealthInput,
    sn: string,
  ): Promise<{ serialNumber: string; failing: string[] }> {
    const calledAt = Date.now();
    await client.diagnoseSmartAccessGateway(input.regionId, input.smartAgId, sn);
    const until = Date.now() + (input.diagnosisWaitMs ?? 90_000);
    for (;;) {
      const r = await client.describeDiagnosisReport(input.regionId, input.smartAgId, sn);
      // A report that started well before this call is the previous diagnosis (the baseline's).
      const stale = r.startTime !== undefined && r.startTime < calledAt - (input.diagnosisSkewMs ?? SKEW_MS);
      if (!stale && FAILED_STATES.has(r.state)) return { serialNumber: sn, failing: [FAILED_DIAGNOSIS] };
      if (!stale && (r.state === 'finished' || r.percent >= 100)) {
        return { serialNumber: sn, failing: r.items.filter((i) => i.level === 'error').map((i) => i.name) };
      }
      if (Date.now() >= until) return { serialNumber: sn, failing: [UNFINISHED_DIAGNOSIS] };
      heartbeat();
      await sleep(Math.min(input.diagnosisPollMs ?? 5000, Math.max(0, until - Date.now())));
    }
  }

  return {
    /**
     * Reads what the policy's health checks compare, for one device: before its upgrade (the
     * baseline) and after its version check passed.
     * @throws ApplicationFailure typed by the Alibaba code of a read that failed.
     */
    async readHealth(input: ReadHealthInput): Promise<ReadHealthResult> {
      const recorded = recording(deps.client, { overrides: input.overrides });
      const { calls } = recorded;
      // A heartbeat before every call: a slow call or the rate limiter must not look like a dead worker.
      const client = new Proxy(recorded.client, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            heartbeat();
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const c = input.checks;
      const reading: HealthReading = { at: 0 };
      try {
        if (c.links) {
          const attr = await client.describeSmartAccessGatewayAttribute(input.regionId, input.smartAgId);
          reading.links = attr.links.map((l) => ({ id: l.instanceId, status: l.status }));
        }
        if (c.ha) {
          const ha = await client.describeSmartAccessGatewayHa(input.regionId, input.smartAgId);
          reading.ha = { backupState: ha.state, linkBackup: ha.linkBackup };
        }
        if (c.controller) {
          reading.controllers = [];
          for (const sn of input.serials) {
            const info = await client.describeSagDeviceInfo(input.regionId, input.smartAgId, sn);
            reading.controllers.push({
              serialNumber: sn,
              state: info.controllerState ?? '',
              ...(info.lastConnectedControllerTime
                ? { lastConnected: info.lastConnectedControllerTime }
                : {}),
              ...(info.startupTime ? { startupTime: info.startupTime } : {}),
            });
          }
        }
        if (c.diagnosis) {
          reading.diagnosis = [];
          for (const sn of input.serials) reading.diagnosis.push(await diagnose(client, input, sn));
        }
        if (c.features.length > 0) {
          reading.features = [];
          for (const sn of input.serials) {
            for (const name of c.features) {
              const r = await client.listUnsupportedFeatures(input.regionId, input.smartAgId, sn, name);
              reading.features.push({ serialNumber: sn, openApiName: name, features: r.features });
            }
          }
        }
        reading.at = Date.now();
        return { reading, calls };
      } catch (err) {
        fail(err, 'readHealth', calls, input.overrides);
      }
    },
  };
}
