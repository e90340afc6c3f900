/**
 * The chaos run's invariants, checked on the simulator's own records (its ledger of accepted
 * upgrades, its request log, its devices' policies) against what the rollouts report. Each check
 * returns the violations it found, each naming the device, serial number and evidence.
 */
import type { AcceptedUpgrade, RequestLogEntry } from '../../src/simulator';
import type { DeviceStatus } from '../../domain/types';
import { readAnswer, UPGRADE_ACTION, FAULT_KINDS, type PlannedFault } from './chaos-faults';
import { TARGET_VERSION, type ChaosDevice } from './chaos-fleet';

/** One rollout of the run, as it closed. */
export interface RolloutRun {
  name: string;
  rolloutId: string;
  startedAt: number;
  closedAt: number;
  state: string;
  inventory: string[];
  statuses: DeviceStatus[];
  /** `upgrade/<SmartAGId>` workflows still running when the rollout closed. */
  running: string[];
  /** Minutes each wave ran (a figure). */
  waveMinutes: Record<string, number>;
}

/** A credential taken away from the workers during a rollout, and given back. */
export interface CredentialEvent {
  kind: 'disabled' | 'expired';
  code: string;
  /** Share of the rollout's upgradable devices sent their upgrade when it is applied. */
  atShare: number;
  appliedAt?: number;
  haltedAt?: number;
  haltReason?: string;
  restoredAt?: number;
  resumedAt?: number;
  breachesBefore?: number;
  breachesAtHalt?: number;
  /** Devices that the rollout showed failed or unconfirmed with a credential code at the halt. */
  countedAtHalt?: string[];
  error?: string;
}

export interface CheckInput {
  runs: RolloutRun[];
  fleet: ChaosDevice[];
  /** The faults planned on upgrade calls, named in the violations of their devices. */
  planned: PlannedFault[];
  ledger: AcceptedUpgrade[];
  log: RequestLogEntry[];
  clientTimeoutMs: number;
  credentialEvents: CredentialEvent[];
  /** Device auto-upgrade policy type per serial number, as the simulator has it now. */
  policiesNow: Record<string, string>;
  /** Firmware version per serial number, as the simulator has it now. */
  versionsNow: Record<string, string>;
  firedByKind: Record<string, number>;
  kills: number;
  serverRestarts: number;
  aborted: boolean;
  /** Devices the first rollout left unconfirmed that the second one was given. */
  leftovers: string[];
}

const FINAL = new Set(['upgraded', 'skipped', 'failed', 'unconfirmed', 'excluded', 'compensated']);
const CREDENTIAL = /^(InvalidAccessKeyId|InvalidSecurityToken)\./;

const ms = (iso: string) => Date.parse(iso);

/** ` [planned: <fault> on <serial>]` for a device that had a fault planned, else nothing. */
function plannedFor(i: CheckInput, smartAgId: string | undefined): string {
  const p = i.planned.filter((x) => x.smartAgId === smartAgId);
  return p.length > 0
    ? ` [planned: ${p.map((x) => `${x.label} on the first call to ${x.serialNumber}`).join('; ')}]`
    : '';
}
const clock = (t: number) => new Date(t).toISOString().slice(11, 23);

/** The run (if any) whose open interval holds instant `t`. */
function runAt(runs: RolloutRun[], t: number): RolloutRun | undefined {
  return runs.find((r) => t >= r.startedAt && t <= r.closedAt);
}

function describeEntry(e: AcceptedUpgrade): string {
  return `${clock(ms(e.time))} ${e.requestId}${e.started ? '' : ' (already upgrading)'}${e.fault ? ` answer ${e.fault}` : ''}`;
}

function describeRequest(e: RequestLogEntry): string {
  const code = e.code ? ` ${e.code}` : '';
  const replaced = e.replaced
    ? ` (replacing ${e.replaced.httpStatus}${e.replaced.code ? ` ${e.replaced.code}` : ''})`
    : '';
  return `${clock(ms(e.time))} ${e.httpStatus}${code}${e.fault ? ` fault ${e.fault}` : ''}${replaced} ${e.requestId}`;
}

const sortedUpgrades = new WeakMap<RequestLogEntry[], RequestLogEntry[]>();

/** The log's upgrade calls in the order they arrived (computed once per log). */
function upgradeRequests(log: RequestLogEntry[]): RequestLogEntry[] {
  let out = sortedUpgrades.get(log);
  if (!out) {
    out = log.filter((e) => e.action === UPGRADE_ACTION).sort((a, b) => ms(a.time) - ms(b.time));
    sortedUpgrades.set(log, out);
  }
  return out;
}

/** At most one accepted upgrade per serial number and version within each rollout. */
export function checkAcceptedOnce(i: CheckInput): string[] {
  const out: string[] = [];
  const groups = new Map<string, { run: string; entries: AcceptedUpgrade[] }>();
  for (const e of i.ledger) {
    const run = runAt(i.runs, ms(e.time));
    if (!run) {
      out.push(
        `accepted upgrade outside any rollout: ${e.SmartAGId} ${e.SerialNumber} ${e.VersionCode} at ${describeEntry(e)}`,
      );
      continue;
    }
    const key = `${run.name} ${e.SmartAGId} ${e.SerialNumber} ${e.VersionCode}`;
    const g = groups.get(key) ?? { run: run.name, entries: [] };
    g.entries.push(e);
    groups.set(key, g);
  }
  for (const [key, g] of groups) {
    if (g.entries.length > 1)
      out.push(
        `rollout ${key}: ${g.entries.length} accepted upgrades: ${g.entries.map(describeEntry).join('; ')}${plannedFor(i, g.entries[0]!.SmartAGId)}`,
      );
  }
  return out;
}

/**
 * After an answer that proves nothing, nothing more is sent to that serial number for that
 * version in the rollout (the policy is `unconfirmed`): the device settles, then is upgraded or
 * unconfirmed.
 */
export function checkNoSendAfterAmbiguous(i: CheckInput): string[] {
  const out: string[] = [];
  const seen = new Map<string, RequestLogEntry>();
  for (const e of upgradeRequests(i.log)) {
    const run = runAt(i.runs, ms(e.time));
    if (!run) continue;
    const key = `${run.name} ${e.smartAgId} ${e.serialNumber ?? '*'} ${e.params.VersionCode}`;
    const first = seen.get(key);
    if (first)
      out.push(
        `rollout ${key}: sent again after the ambiguous answer ${describeRequest(first)}: ${describeRequest(e)}${plannedFor(i, e.smartAgId)}`,
      );
    else if (readAnswer(e, i.clientTimeoutMs).client === 'ambiguous') seen.set(key, e);
  }
  return out;
}

/**
 * Every inventory device has exactly one status, in a final outcome. An aborted rollout may
 * leave pending the devices it never sent an upgrade call: not started, or deferred while offline.
 */
export function checkOutcomes(i: CheckInput): string[] {
  const out: string[] = [];
  for (const r of i.runs) {
    const ids = new Set(r.statuses.map((s) => s.smartAgId));
    if (r.statuses.length !== r.inventory.length || ids.size !== r.inventory.length) {
      out.push(
        `rollout ${r.name}: ${r.statuses.length} statuses (${ids.size} distinct) for ${r.inventory.length} devices`,
      );
    }
    for (const id of r.inventory) if (!ids.has(id)) out.push(`rollout ${r.name}: ${id} has no status`);
    for (const s of r.statuses) {
      if (FINAL.has(s.outcome)) continue;
      // An abort stops what has not started, and what was deferred (offline) before any call.
      const sent = upgradeRequests(i.log).filter(
        (e) => e.smartAgId === s.smartAgId && runAt(i.runs, ms(e.time)) === r,
      );
      if (
        s.outcome === 'pending' &&
        r.state === 'aborted' &&
        sent.length === 0 &&
        !r.running.includes(s.smartAgId)
      )
        continue;
      out.push(
        `rollout ${r.name}: ${s.smartAgId} ended ${s.outcome}${sent.length > 0 ? ` after ${sent.length} upgrade call(s) in this rollout` : ''}`,
      );
    }
    for (const id of r.running)
      out.push(`rollout ${r.name}: upgrade/${id} still running after the rollout closed`);
  }
  return out;
}

/** Every failed or unconfirmed device of an aborted rollout was compensated or says why not. */
export function checkCompensation(i: CheckInput): string[] {
  const out: string[] = [];
  for (const r of i.runs.filter((x) => x.state === 'aborted')) {
    for (const s of r.statuses) {
      if (
        (s.outcome === 'failed' || s.outcome === 'unconfirmed' || s.outcome === 'compensated') &&
        !s.compensation
      ) {
        out.push(
          `rollout ${r.name}: ${s.smartAgId} ended ${s.outcome} (${s.errorCode ?? 'no code'}) without a compensation record`,
        );
      }
    }
  }
  return out;
}

/** The newest status of each device across the runs. */
function lastStatus(runs: RolloutRun[], id: string): DeviceStatus | undefined {
  for (let k = runs.length - 1; k >= 0; k--) {
    const s = runs[k]!.statuses.find((x) => x.smartAgId === id);
    if (s && s.outcome !== 'pending') return s;
  }
  return undefined;
}

/**
 * No auto-upgrade policy is left pinned unless the device's status says so (a restore or a
 * compensation that failed): the simulator's policies against those of the fleet at the start.
 */
export function checkPolicies(i: CheckInput): string[] {
  const out: string[] = [];
  for (const d of i.fleet) {
    for (const sn of d.serials) {
      const was = d.policies[sn];
      const now = i.policiesNow[sn];
      if (was === now) continue;
      const s = lastStatus(i.runs, d.smartAgId);
      const says =
        s &&
        (s.compensation?.startsWith('compensation-failed') || s.message?.includes('policy restore failed'));
      if (!says)
        out.push(
          `${d.smartAgId} ${sn}: auto-upgrade policy ${was} at the start, ${now ?? 'none'} now; its status (${s?.outcome ?? 'none'}${s?.compensation ? `, ${s.compensation}` : ''}) does not say why`,
        );
    }
  }
  return out;
}

/** Accepted upgrades per serial number at the target version in one rollout. */
function acceptedAtTarget(i: CheckInput, run: RolloutRun, sn: string): number {
  return i.ledger.filter(
    (e) => e.SerialNumber === sn && e.VersionCode === TARGET_VERSION && runAt(i.runs, ms(e.time)) === run,
  ).length;
}

/**
 * Whether a device of `run` must end upgraded: it can be upgraded, its upgrade succeeds, and no
 * upgrade call to it was answered ambiguously unless the call was accepted and the download ends
 * within the settle (the sign shows in time).
 */
function mustUpgrade(i: CheckInput, run: RolloutRun, d: ChaosDevice): boolean {
  if (!d.upgradable || d.outcome !== 'ok') return false;
  for (const e of upgradeRequests(i.log)) {
    if (e.smartAgId !== d.smartAgId || runAt(i.runs, ms(e.time)) !== run) continue;
    const a = readAnswer(e, i.clientTimeoutMs);
    if (a.client === 'ambiguous' && (!a.accepted || d.longDownload)) return false;
  }
  return true;
}

/**
 * A device that must end upgraded is on the target (the simulator's version) with one accepted
 * call per serial number. Excused: a device left unconfirmed, with nothing accepted, because its
 * upgrade call's activity timed out or its call never reached the simulator (a killed worker or the
 * server restart), or because its every upgrade call was answered ambiguously without a sign.
 * `reported` is the rollout's outcome for it, which should be `upgraded`.
 */
function reachedOnce(
  i: CheckInput,
  run: RolloutRun,
  d: ChaosDevice,
): { ok: boolean; excused?: boolean; reported?: string; why?: string; evidence?: string } {
  const s = run.statuses.find((x) => x.smartAgId === d.smartAgId);
  const counts = d.serials.map((sn) => acceptedAtTarget(i, run, sn));
  const onTarget = d.serials.every((sn) => i.versionsNow[sn] === TARGET_VERSION);
  const reported = `${s?.outcome ?? 'no status'}${s?.errorCode ? ` ${s.errorCode}` : ''}`;
  // The simulator's accepted calls to the device in this rollout, for the violation's evidence.
  const ledger = i.ledger
    .filter((e) => e.SmartAGId === d.smartAgId && runAt(i.runs, ms(e.time)) === run)
    .map((e) => `${e.SerialNumber} ${e.VersionCode} ${describeEntry(e)}`);
  const evidence = `${s?.message ? ` (${s.message})` : ''}; ledger: ${ledger.join('; ') || 'none'}`;
  if (onTarget && counts.every((n) => n === 1)) return { ok: true, reported, evidence };
  if (s?.outcome === 'unconfirmed' && s.message?.includes('ActivityTimeout') && counts.every((n) => n === 0))
    return { ok: false, excused: true };
  // Unconfirmed, with nothing accepted, after upgrade calls that were all answered ambiguously (a
  // fault, or a 5xx) and showed no sign: the documented default, also when a credential halt cut
  // the watch short.
  const sends = i.log.filter(
    (e) =>
      e.action === 'UpdateSmartAccessGatewayVersion' &&
      e.smartAgId === d.smartAgId &&
      runAt(i.runs, ms(e.time)) === run,
  );
  const ambiguousOnly = sends.length > 0 && sends.every((e) => e.fault !== undefined || e.httpStatus >= 500);
  if (s?.outcome === 'unconfirmed' && counts.every((n) => n === 0) && ambiguousOnly)
    return { ok: false, excused: true };
  // Unconfirmed, and no upgrade call for it ever reached the simulator in this rollout: the worker
  // that was sending it was killed (or the server restarted) before the request left. The workflow
  // cannot tell a call that never left from one lost on the way, so it sends nothing more.
  const interrupted = i.kills + i.serverRestarts > 0;
  if (
    s?.outcome === 'unconfirmed' &&
    counts.every((n) => n === 0) &&
    sends.length === 0 &&
    interrupted &&
    !onTarget
  )
    return { ok: false, excused: true };
  const versions = d.serials.map((sn) => i.versionsNow[sn] ?? '?').join('/');
  return {
    ok: false,
    why: `on ${versions}, reported ${reported}, accepted upgrades per serial ${counts.join('/')}${evidence}`,
  };
}

/** The devices of a completed rollout that must end upgraded did (see {@link reachedOnce}). */
export function checkUpgraded(i: CheckInput): {
  failures: string[];
  expected: number;
  excused: string[];
  misreported: string[];
} {
  const failures: string[] = [];
  const excused: string[] = [];
  const misreported: string[] = [];
  let expected = 0;
  for (const run of i.runs.filter((r) => r.state === 'completed')) {
    for (const id of run.inventory) {
      const d = i.fleet.find((x) => x.smartAgId === id)!;
      if (!mustUpgrade(i, run, d)) continue;
      expected++;
      const r = reachedOnce(i, run, d);
      if (r.excused) excused.push(id);
      else if (!r.ok)
        failures.push(
          `rollout ${run.name}: ${id} should have reached ${TARGET_VERSION} with one accepted call: ${r.why}${plannedFor(i, id)}`,
        );
      else if (r.reported !== 'upgraded') misreported.push(`${id} (${r.reported})`);
    }
  }
  return { failures, expected, excused, misreported };
}

/** Devices that had a request refused with a credential code during `run`. */
export function interruptedDevices(i: CheckInput, run: RolloutRun): string[] {
  const ids = new Set<string>();
  for (const e of i.log)
    if (e.smartAgId && e.code && CREDENTIAL.test(e.code) && runAt(i.runs, ms(e.time)) === run)
      ids.add(e.smartAgId);
  return [...ids];
}

/**
 * Credentials taken away halt the rollout (paused, the code named), count no device against the
 * budget, and after they are restored and the rollout resumed, every interrupted device that can
 * be upgraded reaches the target with one accepted call and is reported upgraded.
 */
export function checkCredentials(i: CheckInput): string[] {
  const out: string[] = [];
  for (const ev of i.credentialEvents) {
    const name = `credentials ${ev.kind}`;
    if (ev.error) out.push(`${name}: ${ev.error}`);
    if (ev.appliedAt === undefined) out.push(`${name}: never applied (the rollout finished first)`);
    else if (ev.haltedAt === undefined) out.push(`${name}: the rollout never halted`);
    else {
      if (!ev.haltReason?.includes(ev.code))
        out.push(`${name}: the halt reason does not name ${ev.code}: ${ev.haltReason ?? '(none)'}`);
      if ((ev.breachesAtHalt ?? 0) !== (ev.breachesBefore ?? 0))
        out.push(`${name}: counted as a budget breach (${ev.breachesBefore} → ${ev.breachesAtHalt})`);
      if (ev.countedAtHalt && ev.countedAtHalt.length > 0)
        out.push(
          `${name}: devices counted as failed with a credential code at the halt: ${ev.countedAtHalt.join(', ')}`,
        );
    }
    if (ev.haltedAt !== undefined && ev.resumedAt === undefined)
      out.push(`${name}: the rollout was not resumed`);
  }
  for (const run of i.runs) {
    for (const s of run.statuses) {
      if (s.errorCode && CREDENTIAL.test(s.errorCode))
        out.push(`rollout ${run.name}: ${s.smartAgId} ended ${s.outcome} with ${s.errorCode}`);
    }
    if (run.state !== 'completed') continue;
    for (const id of interruptedDevices(i, run)) {
      const d = i.fleet.find((x) => x.smartAgId === id);
      if (!d || !mustUpgrade(i, run, d)) continue;
      const r = reachedOnce(i, run, d);
      if (!r.ok && !r.excused) {
        out.push(
          `rollout ${run.name}: ${id} was interrupted by the credential halt and did not reach the target with one accepted call: ${r.why}${plannedFor(i, id)}`,
        );
      } else if (r.ok && r.reported !== 'upgraded') {
        // The resumed rollout finishes what the halt interrupted: it verifies the device, it does not
        // leave the upgrade its earlier call started to chance.
        out.push(
          `rollout ${run.name}: ${id} was interrupted by the credential halt; it reached the target with one accepted call, but the resumed rollout reports it ${r.reported}${r.evidence ?? ''}${plannedFor(i, id)}`,
        );
      }
    }
  }
  return out;
}

/**
 * Nothing is sent by a later rollout to a serial number of a device that an earlier rollout left
 * unconfirmed, when the earlier rollout's call to it was accepted or answered ambiguously: that
 * upgrade may still be in progress. (The other serial number of a pair, never sent to, may be.)
 */
export function checkLeftovers(i: CheckInput): string[] {
  const out: string[] = [];
  const [first, second] = i.runs;
  if (!first || !second) return out;
  const open = new Map<string, RequestLogEntry>();
  for (const e of upgradeRequests(i.log)) {
    if (!e.smartAgId || !i.leftovers.includes(e.smartAgId)) continue;
    const key = `${e.serialNumber ?? '*'} ${e.params.VersionCode}`;
    const run = runAt(i.runs, ms(e.time));
    if (run === first) {
      const a = readAnswer(e, i.clientTimeoutMs);
      if (a.accepted || a.client === 'ambiguous') open.set(key, e);
    } else if (run === second && open.has(key)) {
      out.push(
        `rollout ${second.name}: ${e.smartAgId} ${e.serialNumber ?? ''} was sent ${e.params.VersionCode} again although rollout ${first.name} left it unconfirmed after ${describeRequest(open.get(key)!)}: ${describeRequest(e)}${plannedFor(i, e.smartAgId)}`,
      );
    }
  }
  return out;
}

/** The run did what it claims: every fault kind fired, workers were killed, the server restarted, the abort came. */
export function checkExercised(i: CheckInput): string[] {
  const out: string[] = [];
  for (const k of FAULT_KINDS) if (!i.firedByKind[k]) out.push(`no ${k} fault fired`);
  if (i.kills < 1) out.push('no worker was killed');
  if (i.serverRestarts < 1) out.push('the Temporal server was not restarted');
  if (!i.aborted) out.push('the second rollout was not aborted');
  return out;
}

export function checkAll(i: CheckInput): { failures: string[]; upgraded: ReturnType<typeof checkUpgraded> } {
  const upgraded = checkUpgraded(i);
  return {
    failures: [
      ...checkAcceptedOnce(i),
      ...checkNoSendAfterAmbiguous(i),
      ...checkOutcomes(i),
      ...checkCompensation(i),
      ...checkPolicies(i),
      ...checkCredentials(i),
      ...upgraded.failures,
      ...checkLeftovers(i),
      ...checkExercised(i),
    ],
    upgraded,
  };
}
