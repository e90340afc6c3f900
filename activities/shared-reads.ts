/**
 * Reads that devices in flight share, inside one worker process (the `apiBudget` levers):
 * status polls of single devices coalesced into `DescribeSmartAccessGateways` pages of up to 50
 * `SmartAGIds.N`, and `DescribeSmartAccessGatewayVersions` answers shared per region, hardware
 * model and version type once the first answers agree. Nothing here is workflow state: each
 * device's activity result still carries what it observed, so history holds every decision's input.
 */
import type { InstanceSummary, SagClient, VersionEntry, VersionType } from '../src/sag/types';

/** Ids `DescribeSmartAccessGateways` takes in one page. */
export const PAGE_IDS = 50;

interface Waiter {
  smartAgId: string;
  resolve: (r: { item: InstanceSummary | undefined; requestId: string }) => void;
  reject: (err: unknown) => void;
}

interface RegionBatch {
  waiters: Waiter[];
  /** When the batch is sent: the earliest latest-time of its waiters. */
  dueAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Coalesces status reads per region: a read waits at most `maxDelayMs` (a fraction of the poll
 * interval) for others to share its page, and goes at once when the page is full.
 */
export class BulkStatusReader {
  private readonly batches = new Map<string, RegionBatch>();

  constructor(private readonly client: SagClient) {}

  /**
   * The instance's list entry (undefined when the list does not name it) and the RequestId of the
   * page that answered it.
   * @throws the page's error (every read of that page fails with it).
   */
  read(
    regionId: string,
    smartAgId: string,
    maxDelayMs: number,
  ): Promise<{ item: InstanceSummary | undefined; requestId: string }> {
    return new Promise((resolve, reject) => {
      const dueAt = Date.now() + Math.max(0, maxDelayMs);
      let batch = this.batches.get(regionId);
      if (!batch) {
        batch = { waiters: [], dueAt, timer: setTimeout(() => this.flush(regionId), maxDelayMs) };
        this.batches.set(regionId, batch);
      } else if (dueAt < batch.dueAt) {
        clearTimeout(batch.timer);
        batch.dueAt = dueAt;
        batch.timer = setTimeout(() => this.flush(regionId), maxDelayMs);
      }
      batch.waiters.push({ smartAgId, resolve, reject });
      if (new Set(batch.waiters.map((w) => w.smartAgId)).size >= PAGE_IDS) this.flush(regionId);
    });
  }

  private flush(regionId: string): void {
    const batch = this.batches.get(regionId);
    if (!batch) return;
    clearTimeout(batch.timer);
    this.batches.delete(regionId);
    // A batch is sent as soon as it names PAGE_IDS instances, so it always fits one page.
    const ids = [...new Set(batch.waiters.map((w) => w.smartAgId))];
    this.client.describeSmartAccessGateways({ regionId, smartAgIds: ids, pageSize: PAGE_IDS }).then(
      (page) => {
        for (const w of batch.waiters)
          w.resolve({
            item: page.items.find((x) => x.smartAgId === w.smartAgId),
            requestId: page.requestId,
          });
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}

/** The first answers of a key that must agree before it is shared. */
export const AGREEING_ANSWERS = 3;

interface VersionsKey {
  answers: string[];
  shared?: VersionEntry[];
  /** The answers differed: every device of this key reads its own. */
  differs: boolean;
}

/**
 * Versions offered per rollout, region, hardware model and version type: read per device until
 * {@link AGREEING_ANSWERS} answers agree, then shared; per device for good once two differ.
 */
export class SharedVersions {
  private readonly keys = new Map<string, VersionsKey>();

  /** The shared list of the key, when its answers agreed. */
  lookup(key: string): VersionEntry[] | undefined {
    return this.keys.get(key)?.shared;
  }

  /** Records a device's own answer for the key. */
  record(key: string, versions: VersionEntry[]): void {
    let k = this.keys.get(key);
    if (!k) this.keys.set(key, (k = { answers: [], differs: false }));
    if (k.differs || k.shared) return;
    const text = JSON.stringify(versions);
    if (k.answers.length > 0 && k.answers[0] !== text) {
      k.differs = true;
      return;
    }
    k.answers.push(text);
    if (k.answers.length >= AGREEING_ANSWERS) k.shared = versions;
  }
}

/** The key versions are shared under. */
export function versionsKey(
  shareKey: string,
  regionId: string,
  model: string | undefined,
  versionType: VersionType,
): string {
  return `${shareKey}\u0000${regionId}\u0000${model ?? ''}\u0000${versionType}`;
}

/**
 * Sleeps until `until` in slices no longer than `sliceMs`, calling `beat` (a heartbeat) after
 * each, so a quiet phase of minutes keeps the activity's heartbeat timeout. Ends early when the
 * activity is cancelled (`sleep` rejects).
 */
export async function waitUntil(
  until: number,
  sliceMs: number,
  sleep: (ms: number) => Promise<void>,
  beat: () => void,
): Promise<void> {
  for (let left = until - Date.now(); left > 0; left = until - Date.now()) {
    await sleep(Math.min(left, Math.max(1, sliceMs)));
    beat();
  }
}
