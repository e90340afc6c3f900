import { Context, activityInfo, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { SagClient, VersionType } from '../src/sag/types';
import type {
  AwaitDeviceInput,
  AwaitDeviceResult,
  CallRecord,
  DeviceSnapshot,
  HealthCheckInput,
  HealthCheckResult,
  InspectInput,
  PolicyChangeInput,
  SerialObservation,
  UpgradeCallInput,
} from '../domain/device-types';
import type { CodeOverrides, PinnedPolicy, PriorRecord } from '../domain/types';
import { resolveCodePolicy } from '../domain/error-policy';
import { compareVersions } from '../domain/versions';
import type { HealthReading } from '../domain/health';
import { normalizeError } from '../src/sag/errors';
import { fail } from './fail';
import { createHealthActivities } from './health';
import { createProbeActivities, type ProbeDeps } from './probe';
import { withSendDeadline } from './send-deadline';
import { recording } from './recording';
import { BulkStatusReader, PAGE_IDS, SharedVersions, versionsKey, waitUntil } from './shared-reads';
import { createRolloutActivities, type RolloutActivityDeps } from './rollout';

export interface ActivityDeps extends Partial<RolloutActivityDeps>, ProbeDeps {
  client: SagClient;
  /**
   * Reads what earlier runs of a device's workflow left open (see `PriorRecord`). Without it (the
   * CLI's `plan`), a device has no earlier runs.
   */
  readPriorRecord?: (workflowId: string, currentRunId: string) => Promise<PriorRecord>;
}

/** Polls in a row whose credentials fail before a watch gives up (the rollout then halts). */
const CREDENTIAL_POLLS = 5;

/** Modify needs a cron, a duration and a zone even to set `manual`: these stand in when none is recorded. */
const POLICY_FALLBACK = { cronExpression: '0 0 4 * * ?', duration: 60, timeZone: 'Asia/Shanghai' } as const;

/** A controller reading from a `DescribeSAGDeviceInfo` answer. */
function controllerOf(
  serialNumber: string,
  info: { controllerState?: string; lastConnectedControllerTime?: string; startupTime?: string },
): { serialNumber: string; state: string; lastConnected?: string; startupTime?: string } {
  return {
    serialNumber,
    state: info.controllerState ?? '',
    ...(info.lastConnectedControllerTime ? { lastConnected: info.lastConnectedControllerTime } : {}),
    ...(info.startupTime ? { startupTime: info.startupTime } : {}),
  };
}

/** One status poll of an instance. */
interface Observed {
  status: string;
  links: { id: string; status: string }[];
  serials: SerialObservation[];
  versionOf: (sn: string, t: VersionType) => string | undefined;
}

/** Builds the activities from injected dependencies; nothing here reads the environment. */
export function createActivities(deps: ActivityDeps) {
  const sag = deps.client;
  const bulk = new BulkStatusReader(sag);
  const sharedVersions = new SharedVersions();

  async function observe(
    client: SagClient,
    input: Pick<AwaitDeviceInput, 'regionId' | 'smartAgId'>,
  ): Promise<Observed> {
    const attr = await client.describeSmartAccessGatewayAttribute(input.regionId, input.smartAgId);
    return {
      status: attr.status,
      links: attr.links.map((l) => ({ id: l.instanceId, status: l.status })),
      serials: attr.devices.map((d) => ({
        serialNumber: d.serialNumber,
        version: d.softwareVersion,
        hcState: d.hcState,
      })),
      versionOf: (sn, t) => {
        const d = attr.devices.find((x) => x.serialNumber === sn);
        return t === 'Dpi' ? d?.dpiSignatureDbVersion : d?.softwareVersion;
      },
    };
  }

  /**
   * A single device's firmware status from a shared list page: the instance reads `Active` while
   * its one device is online. The page is recorded in this activity's calls.
   * @throws Error `not in the list` when the page does not name the instance (the poll then failed).
   */
  async function observeInPage(input: AwaitDeviceInput, calls: CallRecord[]): Promise<Observed> {
    const t = Date.now();
    const rec: CallRecord = { a: 'DescribeSmartAccessGateways', t, ms: 0 };
    calls.push(rec);
    try {
      const { item, requestId } = await bulk.read(
        input.regionId,
        input.smartAgId,
        Math.min(5000, input.pollIntervalMs / 2),
      );
      rec.rid = requestId;
      if (!item) throw new Error(`${input.smartAgId}: not in the list`);
      const sn = input.allSerials[0]!;
      const version = item.softwareVersion ?? '';
      return {
        status: item.status,
        links: [],
        serials: [{ serialNumber: sn, version, hcState: item.status === 'Active' ? 'online' : 'offline' }],
        versionOf: (s, type) => (s === sn && type === 'Device' ? version : undefined),
      };
    } catch (err) {
      const e = err as { code?: unknown };
      if (typeof e.code === 'string') rec.code = e.code;
      throw err;
    } finally {
      rec.ms = Date.now() - t;
    }
  }

  /**
   * A single device read per device after its shared list polls passed, for the health analysis:
   * the attribute (links) and `DescribeSAGDeviceInfo` (controller, StartupTime), and whether they
   * still show it on the target, online, Active and restarted.
   */
  async function confirmPerDevice(
    client: SagClient,
    input: AwaitDeviceInput,
  ): Promise<{ obs: Observed; healthy: boolean; controllers: NonNullable<HealthReading['controllers']> }> {
    const obs = await observe(client, input);
    const u = input.upgrading[0]!;
    const s = obs.serials.find((x) => x.serialNumber === u.serialNumber);
    let healthy =
      obs.status === 'Active' &&
      s?.hcState === 'online' &&
      compareVersions(obs.versionOf(u.serialNumber, 'Device') ?? '', input.targetVersion, 'Device') === 0;
    const controllers: NonNullable<HealthReading['controllers']> = [];
    if (healthy) {
      const info = await client.describeSagDeviceInfo(input.regionId, input.smartAgId, u.serialNumber);
      controllers.push(controllerOf(u.serialNumber, info));
      if (u.startupTime && (!info.startupTime || info.startupTime === u.startupTime)) healthy = false;
    }
    return { obs, healthy, controllers };
  }

  /** Writes each recorded non-manual policy as `manual` (pin) or back as it was (restore). */
  async function writePolicies(
    input: PolicyChangeInput & { overrides?: CodeOverrides },
    mode: 'pin' | 'restore',
  ): Promise<{ calls: CallRecord[] }> {
    const { client, calls } = recording(sag, { overrides: input.overrides });
    try {
      for (const p of input.policies) {
        if (p.upgradeType === 'manual') continue;
        await client.modifyDeviceAutoUpgradePolicy({
          regionId: input.regionId,
          smartAgId: input.smartAgId,
          serialNumber: p.serialNumber,
          versionType: p.versionType,
          upgradeType: mode === 'pin' ? 'manual' : p.upgradeType,
          cronExpression: p.cronExpression ?? POLICY_FALLBACK.cronExpression,
          duration: p.duration ?? POLICY_FALLBACK.duration,
          timeZone: p.timeZone ?? POLICY_FALLBACK.timeZone,
        });
      }
      return { calls };
    } catch (err) {
      fail(err, mode, calls, input.overrides);
    }
  }

  return {
    ...createHealthActivities({ client: sag }),
    ...createProbeActivities(deps),
    /**
     * Reads everything preflight needs: the instance and its devices, the versions on offer, HA
     * roles, each device's auto-upgrade policies (Device and Dpi) and start-up time.
     * @throws ApplicationFailure typed by the Alibaba code (e.g. `InvalidId.SMARTAG`).
     */
    async inspectDevice(input: InspectInput & { overrides?: CodeOverrides }): Promise<DeviceSnapshot> {
      const { client, calls } = recording(sag, { overrides: input.overrides });
      try {
        const attr = await client.describeSmartAccessGatewayAttribute(input.regionId, input.smartAgId);
        // Shared per region and model once the first answers agreed (apiBudget.shareVersions).
        const key = input.shareVersions
          ? versionsKey(input.shareVersions, input.regionId, attr.instanceType, input.versionType)
          : undefined;
        let versions = key ? sharedVersions.lookup(key) : undefined;
        if (!versions) {
          ({ versions } = await client.describeSmartAccessGatewayVersions(
            input.regionId,
            input.smartAgId,
            input.versionType,
          ));
          if (key) sharedVersions.record(key, versions);
        }
        const snapshot: DeviceSnapshot = {
          smartAgId: input.smartAgId,
          regionId: input.regionId,
          status: attr.status,
          instanceType: attr.instanceType,
          associatedCcnId: attr.associatedCcnId,
          endTime: attr.endTime,
          securityLockThreshold: attr.securityLockThreshold,
          serials: [],
          versions: versions.map((v) => ({ versionCode: v.versionCode, type: v.type })),
          observedAt: Date.now(),
          calls,
        };
        const controllers: NonNullable<HealthReading['controllers']> = [];
        snapshot.health = {
          at: 0,
          links: attr.links.map((l) => ({ id: l.instanceId, status: l.status })),
          controllers,
        };
        if (attr.devices.length > 1) {
          const ha = await client.describeSmartAccessGatewayHa(input.regionId, input.smartAgId);
          snapshot.ha = {
            backupType: ha.backupType,
            mainDeviceId: ha.mainDeviceId,
            backupDeviceId: ha.backupDeviceId,
          };
          snapshot.health.ha = { backupState: ha.state, linkBackup: ha.linkBackup };
        }
        if (input.versionType === 'Dpi') {
          snapshot.dpiStatus = (
            await client.getSmartAgDpiAttribute(input.regionId, input.smartAgId)
          ).dpiStatus;
        }
        for (const d of attr.devices) {
          const policies: PinnedPolicy[] = [];
          for (const versionType of ['Device', 'Dpi'] as const) {
            const p = await client.describeDeviceAutoUpgradePolicy(
              input.regionId,
              input.smartAgId,
              d.serialNumber,
              versionType,
            );
            policies.push({
              serialNumber: d.serialNumber,
              versionType,
              upgradeType: p.upgradeType,
              cronExpression: p.cronExpression,
              duration: p.duration,
              timeZone: p.timeZone,
              jitter: p.jitter,
            });
          }
          let startupTime: string | undefined;
          if (input.versionType === 'Device' && attr.instanceType !== 'sag-software') {
            const info = await client.describeSagDeviceInfo(input.regionId, input.smartAgId, d.serialNumber);
            startupTime = info.startupTime;
            controllers.push(controllerOf(d.serialNumber, info));
          }
          snapshot.serials.push({
            serialNumber: d.serialNumber,
            softwareVersion: d.softwareVersion,
            dpiVersion: d.dpiSignatureDbVersion,
            haState: d.haState,
            hcState: d.hcState,
            startupTime,
            policies,
          });
        }
        snapshot.health.at = Date.now();
        return snapshot;
      } catch (err) {
        fail(err, 'inspect', calls, input.overrides);
      }
    },

    /**
     * Sets every non-manual auto-upgrade policy of the instance to `manual`, so Alibaba's own
     * scheduled or boot-time upgrades cannot race the rollout. Idempotent.
     */
    async pinAutoUpgradePolicies(
      input: PolicyChangeInput & { overrides?: CodeOverrides },
    ): Promise<{ calls: CallRecord[] }> {
      return writePolicies(input, 'pin');
    },

    /** Puts back every policy that pin changed. Idempotent. */
    async restoreAutoUpgradePolicies(
      input: PolicyChangeInput & { overrides?: CodeOverrides },
    ): Promise<{ calls: CallRecord[] }> {
      return writePolicies(input, 'restore');
    },

    /**
     * Sends `UpdateSmartAccessGatewayVersion` once. It is never retried here: the call has no
     * idempotency token, so after an ambiguous failure (timeout, reset, 5xx) the workflow first
     * waits for signs that the upgrade took.
     * @throws ApplicationFailure typed by the code; `details[0].ambiguous` says whether the call may have been accepted.
     */
    async requestUpgrade(
      input: UpgradeCallInput & { overrides?: CodeOverrides },
    ): Promise<{ requestId: string; calls: CallRecord[] }> {
      const { client, calls } = recording(sag, { overrides: input.overrides });
      try {
        // A call still waiting for the rate limiter when the activity's deadline passes never
        // leaves: the workflow has by then treated it as ambiguous and is watching the device.
        const { requestId } = await withSendDeadline(() =>
          client.updateSmartAccessGatewayVersion({
            regionId: input.regionId,
            smartAgId: input.smartAgId,
            serialNumber: input.serialNumber,
            versionCode: input.versionCode,
            versionType: input.versionType,
          }),
        );
        log.info('upgrade accepted', {
          smartAgId: input.smartAgId,
          serialNumber: input.serialNumber,
          requestId,
        });
        return { requestId, calls };
      } catch (err) {
        fail(err, 'upgrade', calls, input.overrides);
      }
    },

    /**
     * Polls the instance until the upgrade shows (settle mode) or is verified (verify mode). Heart-
     * beats its progress, so a retry after a worker crash continues the count.
     * @throws ApplicationFailure (non-retryable) `UpgradeNotApplied`, `UpgradeReverted`,
     *   `DeviceDidNotReturn`, `DeviceUnstable` or `NoRestartObserved` when the deadline passes.
     */
    async awaitDevice(input: AwaitDeviceInput): Promise<AwaitDeviceResult> {
      const { client, calls } = recording(sag, { retryInPlace: false });
      const prior = activityInfo().heartbeatDetails as
        { polls: number; consecutive: number; seenOffline: boolean; startedAt: number } | undefined;
      let polls = prior?.polls ?? 0;
      let consecutive = prior?.consecutive ?? 0;
      let seenOffline = prior?.seenOffline ?? false;
      let everOnTarget = false;
      let revertedPolls = 0;
      // A settle counts from the send it watches, also across retries of this activity.
      const startedAt = prior?.startedAt ?? input.since ?? Date.now();
      let last: SerialObservation[] = [];
      const ctx = Context.current();
      const upgradingSet = new Set(input.upgrading.map((u) => u.serialNumber));
      let credentialFailures = 0;
      let restarted = false;
      // Serial numbers whose new StartupTime a poll of this attempt saw (bulk status reads it once).
      const restartSeen = new Set<string>();
      const startupOf = async (u: AwaitDeviceInput['upgrading'][number]) => {
        if (input.bulkStatus && restartSeen.has(u.serialNumber)) return undefined;
        const info = await client
          .describeSagDeviceInfo(input.regionId, input.smartAgId, u.serialNumber)
          .catch(() => undefined);
        if (input.bulkStatus && info?.startupTime && info.startupTime !== u.startupTime)
          restartSeen.add(u.serialNumber);
        return info;
      };
      /** Whether the serial number restarted since the call: its StartupTime changed. */
      const restartedSince = async (u: AwaitDeviceInput['upgrading'][number]) => {
        if (restartSeen.has(u.serialNumber)) return true;
        const info = await startupOf(u);
        return !!info?.startupTime && info.startupTime !== u.startupTime;
      };
      // Nothing to poll while the device is expected to download and flash (apiBudget.firstPollAfter).
      if (polls === 0 && input.quietUntil !== undefined)
        await waitUntil(
          input.quietUntil,
          input.pollIntervalMs,
          (ms) => ctx.sleep(ms),
          () => heartbeat({ polls, consecutive, seenOffline, startedAt }),
        );
      const single =
        input.bulkStatus === true && input.allSerials.length === 1 && input.versionType === 'Device';
      for (;;) {
        polls += 1;
        let obs: Observed | undefined;
        try {
          obs = single ? await observeInPage(input, calls) : await observe(client, input);
          credentialFailures = 0;
        } catch (err) {
          // Credentials or permissions that stopped working end the watch: the rollout halts, and
          // a later run watches the device again. A credential provider that fails (an STS refresh)
          // may recover: it ends the watch when it fails this many polls in a row.
          const p = resolveCodePolicy(normalizeError(err, 'verify').code);
          if (p.class === 'rollout') credentialFailures += 1;
          if (p.action === 'halt' || credentialFailures >= CREDENTIAL_POLLS) fail(err, 'verify', calls);
          // Any other failed poll is no evidence either way; it neither counts nor resets the streak.
          log.warn('poll failed', { smartAgId: input.smartAgId, error: (err as Error).message });
        }
        if (obs) {
          last = obs.serials.map((s) => ({
            ...s,
            version: obs.versionOf(s.serialNumber, input.versionType) ?? s.version,
          }));
          const upgrading = last.filter((s) => upgradingSet.has(s.serialNumber));
          if (upgrading.some((s) => s.hcState !== 'online')) seenOffline = true;
          const onTarget = upgrading.every(
            (s) => compareVersions(s.version, input.targetVersion, input.versionType) === 0,
          );
          if (onTarget) everOnTarget = true;
          if (input.mode === 'settle') {
            if (seenOffline) return { sign: true, signKind: 'offline', polls, last, calls };
            if (onTarget) return { sign: true, signKind: 'new-version', polls, last, calls };
            if (input.versionType === 'Device') {
              for (const u of input.upgrading) {
                if (!u.startupTime) continue;
                const info = await client
                  .describeSagDeviceInfo(input.regionId, input.smartAgId, u.serialNumber)
                  .catch(() => undefined);
                if (info?.startupTime && info.startupTime !== u.startupTime) {
                  return { sign: true, signKind: 'restarted', polls, last, calls };
                }
              }
            }
          } else {
            const allOnline = input.allSerials.every(
              (sn) => last.find((s) => s.serialNumber === sn)?.hcState === 'online',
            );
            let healthy = onTarget && allOnline && obs.status === 'Active';
            const controllers: NonNullable<HealthReading['controllers']> = [];
            if (healthy && input.versionType === 'Device') {
              for (const u of input.upgrading) {
                if (!u.startupTime) continue;
                // Bulk status: a restart this attempt already saw is not read again.
                if (restartSeen.has(u.serialNumber)) continue;
                const info = await startupOf(u);
                const s = last.find((x) => x.serialNumber === u.serialNumber);
                if (s && info?.startupTime) s.startupTime = info.startupTime;
                if (!info?.startupTime || info.startupTime === u.startupTime) healthy = false;
                if (info) controllers.push(controllerOf(u.serialNumber, info));
              }
            }
            consecutive = healthy ? consecutive + 1 : 0;
            let passingLinks = obs.links;
            if (consecutive >= input.consecutivePolls && single && input.healthReading) {
              // A list page has no links or controllers: the passing poll reads them per device.
              const full = await confirmPerDevice(client, input).catch(() => undefined);
              if (!full) consecutive -= 1;
              else if (!full.healthy) consecutive = 0;
              else {
                passingLinks = full.obs.links;
                controllers.push(...full.controllers);
              }
            }
            if (consecutive >= input.consecutivePolls) {
              // The passing poll's links and controller connections: the health analysis reads them.
              const health: HealthReading = { at: Date.now(), links: passingLinks, controllers };
              return { ok: true, polls, last, health, calls };
            }
            // A changed StartupTime means the device restarted even if no poll caught it offline.
            if (!seenOffline && polls > 1 && input.versionType === 'Device' && !onTarget) {
              for (const u of input.upgrading) {
                if (!u.startupTime) continue;
                if (await restartedSince(u)) seenOffline = true;
              }
            }
            // Back online on the old version after a restart: the upgrade reverted. Conclude
            // once that is stable rather than waiting for the deadline. For firmware the restart
            // must show in StartupTime: a device seen offline during its download (a link blip)
            // and back on its old version has not reverted, it is still downloading.
            const backOnOld =
              seenOffline &&
              upgrading.length > 0 &&
              upgrading.every((s) => {
                const from = input.upgrading.find((u) => u.serialNumber === s.serialNumber)?.fromVersion;
                return s.hcState === 'online' && from !== undefined && s.version === from;
              });
            if (backOnOld && !restarted && input.versionType === 'Device') {
              for (const u of input.upgrading) {
                if (!u.startupTime) {
                  restarted = true;
                  continue;
                }
                if (await restartedSince(u)) restarted = true;
              }
            }
            const reverted =
              (restarted || input.versionType !== 'Device') &&
              seenOffline &&
              upgrading.length > 0 &&
              upgrading.every((s) => {
                const from = input.upgrading.find((u) => u.serialNumber === s.serialNumber)?.fromVersion;
                return s.hcState === 'online' && from !== undefined && s.version === from;
              });
            revertedPolls = reverted ? revertedPolls + 1 : 0;
            if (revertedPolls >= Math.max(2, input.consecutivePolls)) {
              throw ApplicationFailure.create({
                type: 'UpgradeReverted',
                nonRetryable: true,
                message: `${input.smartAgId}: came back on ${upgrading.map((s) => s.version).join(', ')} instead of ${input.targetVersion}`,
                details: [{ code: 'UpgradeReverted', errorClass: 'device', last, calls }],
              });
            }
          }
        }
        heartbeat({ polls, consecutive, seenOffline, startedAt });
        // Checked whether or not the poll answered: a settle whose every poll fails still ends.
        if (input.mode === 'settle' && Date.now() - startedAt >= input.settleMs)
          return { sign: false, polls, last, calls };
        if (input.mode === 'verify' && Date.now() >= input.deadline) {
          const upgrading = last.filter((s) => upgradingSet.has(s.serialNumber));
          const offline = upgrading.some((s) => s.hcState !== 'online');
          const onTarget =
            upgrading.length > 0 &&
            upgrading.every((s) => compareVersions(s.version, input.targetVersion, input.versionType) === 0);
          const code = offline
            ? everOnTarget
              ? 'DeviceUnstable'
              : 'DeviceDidNotReturn'
            : onTarget
              ? everOnTarget && consecutive === 0 && seenOffline
                ? 'DeviceUnstable'
                : 'NoRestartObserved'
              : seenOffline
                ? 'UpgradeReverted'
                : 'UpgradeNotApplied';
          throw ApplicationFailure.create({
            type: code,
            nonRetryable: true,
            message: `${input.smartAgId}: not verified on ${input.targetVersion} by the deadline (${code})`,
            details: [{ code, errorClass: 'device', last, calls }],
          });
        }
        await ctx.sleep(input.pollIntervalMs);
      }
    },

    /**
     * Re-checks a wave's devices after its bake in bulk: `DescribeSmartAccessGateways` takes up to
     * `PAGE_IDS` (50) `SmartAGIds.N`, so a wave costs one call per 50 devices.
     */
    async recheckHealth(input: HealthCheckInput): Promise<HealthCheckResult> {
      const { client, calls } = recording(sag);
      const unhealthy: HealthCheckResult['unhealthy'] = [];
      const byRegion = new Map<string, HealthCheckInput['devices']>();
      for (const d of input.devices) byRegion.set(d.regionId, [...(byRegion.get(d.regionId) ?? []), d]);
      try {
        for (const [regionId, devices] of byRegion) {
          for (let i = 0; i < devices.length; i += PAGE_IDS) {
            const chunk = devices.slice(i, i + PAGE_IDS);
            const page = await client.describeSmartAccessGateways({
              regionId,
              smartAgIds: chunk.map((d) => d.smartAgId),
              pageSize: PAGE_IDS,
            });
            for (const d of chunk) {
              const item = page.items.find((x) => x.smartAgId === d.smartAgId);
              if (!item) unhealthy.push({ smartAgId: d.smartAgId, reason: 'not found' });
              else if (item.status !== 'Active')
                unhealthy.push({ smartAgId: d.smartAgId, reason: `status ${item.status}` });
              else if (
                input.versionType === 'Device' &&
                ((item.softwareVersion && item.softwareVersion !== d.targetVersion) ||
                  (item.backupSoftwareVersion && item.backupSoftwareVersion !== d.targetVersion))
              ) {
                unhealthy.push({
                  smartAgId: d.smartAgId,
                  reason: `version ${item.softwareVersion}/${item.backupSoftwareVersion ?? '-'}`,
                });
              }
            }
          }
        }
        return { unhealthy, calls };
      } catch (err) {
        fail(err, 'recheck', calls);
      }
    },

    /**
     * What earlier runs of this device's workflow left open: upgrade calls whose effect was never
     * seen to end, and policies they pinned and could not restore. Not an API call.
     */
    async readPriorRecord(input: { workflowId: string; runId: string }): Promise<PriorRecord> {
      if (!deps.readPriorRecord) return { openSends: [] };
      return deps.readPriorRecord(input.workflowId, input.runId);
    },

    ...createRolloutActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
