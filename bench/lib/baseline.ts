/**
 * The baseline: the device upgrade's API call sequence driven by a plain loop, without Temporal,
 * at a given concurrency, through the project's SAG client and the same token-bucket rate
 * limiter the worker uses. Inspect, pin and restore are the worker's own activity functions
 * (they need no activity context); the upgrade call and the verify polls repeat what
 * `requestUpgrade` and `awaitDevice` (verify mode) send. No deferral, no retries, no audit: a
 * lower bound for the orchestrator, not a replacement.
 */
import { createActivities } from '../../activities';
import { createSagClient } from '../../src/sag/client';
import { apiRateLimiter } from '../../src/temporal/worker';
import { preflight } from '../../domain/preflight';
import { compareVersions } from '../../domain/versions';
import type { DeviceUpgradePolicy, InventoryDevice } from '../../domain/types';

export interface BaselineOptions {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  apiRate: number;
  concurrency: number;
  devices: InventoryDevice[];
  policy: DeviceUpgradePolicy;
}

export interface BaselineResult {
  elapsedMs: number;
  outcomes: Record<string, number>;
  calls: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runBaseline(o: BaselineOptions): Promise<BaselineResult> {
  const limiter = apiRateLimiter(o.apiRate);
  let calls = 0;
  const client = createSagClient({
    credentials: {
      getCredentials: () =>
        Promise.resolve({ accessKeyId: o.accessKeyId, accessKeySecret: o.accessKeySecret }),
    },
    endpoint: o.endpoint,
    beforeCall: () => limiter.acquire(),
    onCall: () => {
      calls++;
    },
  });
  const acts = createActivities({ client });
  const { policy } = o;
  const outcomes: Record<string, number> = {};
  const count = (k: string) => {
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  };

  async function verify(
    d: InventoryDevice,
    serial: { serialNumber: string; startupTime?: string },
    all: string[],
    target: string,
  ): Promise<boolean> {
    const deadline = Date.now() + policy.verifyTimeoutMs;
    let consecutive = 0;
    for (;;) {
      const attr = await client
        .describeSmartAccessGatewayAttribute(d.regionId, d.smartAgId)
        .catch(() => undefined);
      if (attr) {
        const me = attr.devices.find((x) => x.serialNumber === serial.serialNumber);
        const version = policy.versionType === 'Dpi' ? me?.dpiSignatureDbVersion : me?.softwareVersion;
        let healthy =
          compareVersions(version ?? '', target, policy.versionType) === 0 &&
          all.every((sn) => attr.devices.find((x) => x.serialNumber === sn)?.hcState === 'online') &&
          attr.status === 'Active';
        if (healthy && policy.versionType === 'Device' && serial.startupTime) {
          const info = await client
            .describeSagDeviceInfo(d.regionId, d.smartAgId, serial.serialNumber)
            .catch(() => undefined);
          if (!info?.startupTime || info.startupTime === serial.startupTime) healthy = false;
        }
        consecutive = healthy ? consecutive + 1 : 0;
        if (consecutive >= policy.consecutivePolls) return true;
      }
      if (Date.now() >= deadline) return false;
      await sleep(policy.pollIntervalMs);
    }
  }

  async function upgrade(d: InventoryDevice): Promise<void> {
    let snapshot;
    try {
      snapshot = await acts.inspectDevice({
        regionId: d.regionId,
        smartAgId: d.smartAgId,
        versionType: policy.versionType,
      });
    } catch {
      return count('failed');
    }
    const decision = preflight(snapshot, policy, Date.now());
    if (decision.decision !== 'go') return count(decision.decision === 'skip' ? 'skipped' : 'failed');
    const pinned = snapshot.serials.flatMap((s) => s.policies);
    let ok = true;
    try {
      await acts.pinAutoUpgradePolicies({ regionId: d.regionId, smartAgId: d.smartAgId, policies: pinned });
      const all = snapshot.serials.map((s) => s.serialNumber);
      for (const sn of decision.order) {
        const serial = snapshot.serials.find((s) => s.serialNumber === sn)!;
        await client.updateSmartAccessGatewayVersion({
          regionId: d.regionId,
          smartAgId: d.smartAgId,
          serialNumber: sn,
          versionCode: decision.targetVersion,
          versionType: policy.versionType,
        });
        if (!(await verify(d, serial, all, decision.targetVersion))) {
          ok = false;
          break;
        }
      }
    } catch {
      ok = false;
    }
    if (policy.autoUpgradeAfter === 'restore' && pinned.some((p) => p.upgradeType !== 'manual')) {
      await acts
        .restoreAutoUpgradePolicies({ regionId: d.regionId, smartAgId: d.smartAgId, policies: pinned })
        .catch(() => undefined);
    }
    count(ok ? 'upgraded' : 'failed');
  }

  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(o.concurrency, o.devices.length) }, async () => {
      while (next < o.devices.length) await upgrade(o.devices[next++]!);
    }),
  );
  return { elapsedMs: Date.now() - started, outcomes, calls };
}
