import type { AfterKind } from './faults';

/**
 * The ledger of accepted `UpdateSmartAccessGatewayVersion` calls: one entry per device a call
 * was accepted for, including calls whose answer a fault then lost or replaced. Tests count on
 * it to tell how many times an upgrade was really requested, whatever the client saw.
 */

/** One accepted upgrade of one device: a row of GET /_admin/upgrades. */
export interface AcceptedUpgrade {
  /** When the call was accepted (ISO 8601). */
  time: string;
  /** The RequestId of the call; the same for every device of one call. */
  requestId: string;
  accessKeyId: string;
  RegionId: string;
  SmartAGId: string;
  SerialNumber: string;
  VersionCode: string;
  VersionType: 'Device' | 'Dpi';
  /** False when the device was already upgrading: the call was accepted and counted only. */
  started: boolean;
  /** The fault that lost (`hang-after`, `drop-after`) or replaced (`after-error`) the answer. */
  fault?: AfterKind;
}

/** Filters of GET /_admin/upgrades (query parameters of the same names). */
export interface UpgradeFilter {
  smartAgId?: string;
  serialNumber?: string;
  versionCode?: string;
  limit?: number;
}

export class UpgradeLedger {
  private readonly entries: AcceptedUpgrade[] = [];

  constructor(private readonly maxEntries = 100_000) {}

  record(entry: AcceptedUpgrade): void {
    this.entries.push(entry);
    // Beyond the bound the oldest go, in chunks so that a long soak does not shift on every call.
    if (this.entries.length > this.maxEntries + 1000) {
      const excess = this.entries.length - this.maxEntries;
      this.entries.splice(0, excess);
    }
  }

  /** Entries, oldest first; `limit` keeps the newest. */
  list(filter: UpgradeFilter = {}): AcceptedUpgrade[] {
    const out = this.entries.filter(
      (e) =>
        (filter.smartAgId === undefined || e.SmartAGId === filter.smartAgId) &&
        (filter.serialNumber === undefined || e.SerialNumber === filter.serialNumber) &&
        (filter.versionCode === undefined || e.VersionCode === filter.versionCode),
    );
    return filter.limit !== undefined ? out.slice(Math.max(0, out.length - filter.limit)) : out;
  }
}
