/**
 * Health analysis: what a device's branch looked like before its upgrade against what it looks
 * like after the version check passed. Only regressions count: a link that was down before the
 * upgrade is not the upgrade's fault, and is reported as a note. Pure: read by the device
 * workflow and by the report.
 */

/** The built-in checks of a policy, resolved (every field present). */
export interface HealthChecks {
  /** `Links.Link[]` statuses back to what they were. */
  links: boolean;
  /** HA: `DeviceLevelBackupState` and the link backup's main/backup link states back to what they were. */
  ha: boolean;
  /** `ControllerState` Normal again, and `LastConnectedControllerTime` not before the device's restart. */
  controller: boolean;
  /** A diagnosis before and after: no item failing that passed before. Costs four calls and the diagnosis time. */
  diagnosis: boolean;
  /** OpenAPI names whose unsupported features are read before and after: none newly unsupported. */
  features: string[];
}

export const DEFAULT_HEALTH_CHECKS: HealthChecks = {
  links: true,
  ha: true,
  controller: true,
  diagnosis: false,
  features: [],
};

/** Whether any check needs a reading at all. */
export function anyHealthCheck(c: HealthChecks): boolean {
  return c.links || c.ha || c.controller || c.diagnosis || c.features.length > 0;
}

/** What the API showed of a device's branch at one moment. Absent parts were not read. */
export interface HealthReading {
  /** ms since epoch, when the reading ended. */
  at: number;
  links?: { id: string; status: string }[];
  ha?: {
    backupState: string;
    linkBackup: {
      mainLinkId: string;
      mainLinkState: string;
      backupLinkId: string;
      backupLinkState: string;
    }[];
  };
  /** Per serial number; `lastConnected` and `startupTime` are the device's own clock, compared with each other only. */
  controllers?: { serialNumber: string; state: string; lastConnected?: string; startupTime?: string }[];
  /** Diagnosis items that did not pass, per serial number. */
  diagnosis?: { serialNumber: string; failing: string[] }[];
  /** Unsupported features per serial number and OpenAPI name. */
  features?: { serialNumber: string; openApiName: string; features: string[] }[];
}

export type HealthCheckName = 'links' | 'link-backup' | 'ha' | 'controller' | 'diagnosis' | 'features';

/** One difference between before and after. */
export interface HealthFinding {
  check: HealthCheckName;
  /** What it is about: a link ID, a serial number, a diagnosis item, a feature. */
  subject: string;
  before: string;
  after: string;
}

export interface HealthVerdict {
  /** Worse after the upgrade than before: the device fails with `HealthCheckFailed`. */
  regressions: HealthFinding[];
  /** Not healthy after, but no worse than before: reported, not counted. */
  notes: HealthFinding[];
}

const GOOD_LINK = /^(active|up|normal|available|ok)$/i;

/**
 * `YYYY-MM-DD hh:mm:ss` as the device reports it, read as UTC+8 (the zone Alibaba's console
 * shows; unconfirmed for the API, so the health analysis only compares two such instants of one
 * device with each other) in ms since epoch; undefined when malformed. Arithmetic only: the domain
 * reads no clock.
 */
export function parseDeviceTime(text: string | undefined): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text ?? '');
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  // Days from 1970-01-01 of a proleptic Gregorian date.
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146097 + doe - 719468;
  return ((days * 24 + h - 8) * 60 + mi) * 60_000 + s * 1000;
}

function compareLinks(before: HealthReading, after: HealthReading, out: HealthVerdict): void {
  // Not read after the upgrade (a verify of an older worker build): nothing to compare.
  if (!after.links) return;
  const ids = [...new Set([...(before.links ?? []), ...(after.links ?? [])].map((l) => l.id))];
  for (const id of ids) {
    const now = after.links?.find((l) => l.id === id)?.status ?? 'absent';
    if (GOOD_LINK.test(now)) continue;
    // No baseline: the link counts as healthy before.
    const was = before.links ? (before.links.find((l) => l.id === id)?.status ?? 'absent') : '';
    const finding = { check: 'links' as const, subject: id, before: was, after: now };
    (was === '' || GOOD_LINK.test(was) ? out.regressions : out.notes).push(finding);
  }
}

function compareHa(before: HealthReading, after: HealthReading, out: HealthVerdict): void {
  if (!before.ha || !after.ha) return;
  if (before.ha.backupState === 'ON' && after.ha.backupState !== 'ON') {
    out.regressions.push({
      check: 'ha',
      subject: 'DeviceLevelBackupState',
      before: 'ON',
      after: after.ha.backupState,
    });
  }
  for (const b of before.ha.linkBackup) {
    const a = after.ha.linkBackup.find((l) => l.mainLinkId === b.mainLinkId);
    for (const [id, was, now] of [
      [b.mainLinkId, b.mainLinkState, a?.mainLinkState ?? 'absent'],
      [b.backupLinkId, b.backupLinkState, a?.backupLinkState ?? 'absent'],
    ] as const) {
      if (GOOD_LINK.test(now)) continue;
      const finding = { check: 'link-backup' as const, subject: id, before: was, after: now };
      (GOOD_LINK.test(was) ? out.regressions : out.notes).push(finding);
    }
  }
}

function compareControllers(before: HealthReading, after: HealthReading, out: HealthVerdict): void {
  for (const a of after.controllers ?? []) {
    const b = before.controllers?.find((c) => c.serialNumber === a.serialNumber);
    const wasNormal = b === undefined || b.state === 'Normal';
    const push = (finding: HealthFinding) => (wasNormal ? out.regressions : out.notes).push(finding);
    if (a.state !== 'Normal') {
      push({ check: 'controller', subject: a.serialNumber, before: b?.state ?? '', after: a.state });
      continue;
    }
    // Both instants are the device's own clock (whatever its zone): the connection must be one made
    // since the restart the upgrade caused.
    const last = parseDeviceTime(a.lastConnected);
    const started = parseDeviceTime(a.startupTime);
    if (last !== undefined && started !== undefined && last < started) {
      push({
        check: 'controller',
        subject: a.serialNumber,
        before: b?.state ?? '',
        after: `not connected since its restart at ${a.startupTime}`,
      });
    }
  }
}

function compareDiagnosis(before: HealthReading, after: HealthReading, out: HealthVerdict): void {
  for (const a of after.diagnosis ?? []) {
    const was = before.diagnosis?.find((d) => d.serialNumber === a.serialNumber)?.failing ?? [];
    for (const item of a.failing) {
      const finding = {
        check: 'diagnosis' as const,
        subject: `${a.serialNumber} ${item}`,
        before: was.includes(item) ? 'failing' : 'passed',
        after: 'failing',
      };
      (was.includes(item) ? out.notes : out.regressions).push(finding);
    }
  }
}

function compareFeatures(before: HealthReading, after: HealthReading, out: HealthVerdict): void {
  for (const a of after.features ?? []) {
    const was =
      before.features?.find((f) => f.serialNumber === a.serialNumber && f.openApiName === a.openApiName)
        ?.features ?? [];
    for (const feature of a.features) {
      if (was.includes(feature)) continue;
      out.regressions.push({
        check: 'features',
        subject: `${a.serialNumber} ${a.openApiName} ${feature}`,
        before: 'supported',
        after: 'unsupported',
      });
    }
  }
}

/** Compares a reading after the upgrade with the baseline before it. */
export function compareHealth(
  before: HealthReading | undefined,
  after: HealthReading,
  checks: HealthChecks,
): HealthVerdict {
  const out: HealthVerdict = { regressions: [], notes: [] };
  // Without a baseline, everything that was read counts as healthy before.
  const base: HealthReading = before ?? { at: after.at };
  if (checks.links) compareLinks(base, after, out);
  if (checks.ha) compareHa(base, after, out);
  if (checks.controller) compareControllers(base, after, out);
  if (checks.diagnosis) compareDiagnosis(base, after, out);
  if (checks.features.length > 0) compareFeatures(base, after, out);
  return out;
}

/**
 * Two readings as one: the later one's parts win, controllers are kept per serial number (an HA
 * pair is verified one serial number at a time).
 */
export function mergeReadings(a: HealthReading | undefined, b: HealthReading): HealthReading {
  if (!a) return b;
  const out: HealthReading = { ...a, ...b, at: Math.max(a.at, b.at) };
  if (a.controllers || b.controllers) {
    const later = b.controllers ?? [];
    out.controllers = [
      ...(a.controllers ?? []).filter((c) => !later.some((x) => x.serialNumber === c.serialNumber)),
      ...later,
    ];
  }
  for (const key of ['diagnosis', 'features'] as const) {
    if (a[key] && b[key]) out[key] = [...a[key], ...b[key]] as never;
  }
  return out;
}

/** One line per finding, for a failure message or a note: `links ccn-01: Active → Inactive`. */
export function describeFindings(findings: HealthFinding[]): string {
  return findings.map((f) => `${f.check} ${f.subject}: ${f.before || '?'} → ${f.after}`).join('; ');
}
