import type { PartShareReport } from '../messages';
import { emptyBudget, type BudgetCount } from '../../domain/budget';
import { absorbCount, feedingSlots, othersCount, type PartShare } from '../../domain/overlap';
import { sendToPart } from './forward';
import type { Rollout } from './state';

/**
 * The rollout's side of overlapping wave parts (`overlapParts`, see domain/overlap.ts): which
 * part holds how many slots, and the failure budget they count together.
 */

/** Part `workflowId` starts with `slots` slots; it is told the rollout's count in its input. */
export function addShare(r: Rollout, workflowId: string, slots: number): void {
  const { failed, finished } = r.st.budget;
  r.shares.set(workflowId, {
    held: slots,
    feeding: true,
    seen: emptyBudget(),
    told: { failed, finished, concurrency: slots },
  });
}

/** Part `workflowId` ended: its slots are free, the part started last is the active one. */
export function endShare(r: Rollout, workflowId: string): void {
  r.shares.delete(workflowId);
  r.halting.delete(workflowId);
  r.activePart = [...r.shares.keys()].at(-1);
  tellParts(r);
}

/** A part reported its count `own`; when draining, it holds `holds` slots now. */
export function onPartShare(r: Rollout, rep: PartShareReport): void {
  const s = r.shares.get(rep.workflowId);
  if (!s) return;
  if (rep.draining) {
    s.feeding = false;
    s.held = rep.holds;
  }
  absorb(r, s, rep.own, rep.epoch);
  if (rep.halting) {
    // The part decided a halt: the others start nothing more (the rollout pauses once it hears
    // the halt, after that part's devices in flight finished), and no part starts.
    r.halting.add(rep.workflowId);
    const others = [...r.shares.keys()].filter((id) => id !== rep.workflowId);
    if (!r.st.paused && others.length > 0) sendToPart(r, { kind: 'pause', forHalt: true }, others);
  }
  tellParts(r);
}

/**
 * Adds part `s`'s count `own` to the rollout's (once per figure: the difference to what it
 * reported before). A count from before the budget last started afresh is no longer counted.
 */
export function absorb(r: Rollout, s: PartShare, own: BudgetCount, epoch: number): void {
  if (epoch !== (r.st.budgetEpoch ?? 0)) return;
  r.st.budget = absorbCount(r.st.budget, s.seen, own);
  s.seen = { ...own };
}

/** The budget started afresh (a resume after a breach): every part's count starts from zero. */
export function freshShares(r: Rollout): void {
  for (const s of r.shares.values()) {
    s.seen = emptyBudget();
    s.told = { failed: 0, finished: 0, concurrency: s.told?.concurrency };
  }
}

/**
 * Tells each running part what changed for it: what the other parts counted; to the part still
 * starting devices, the slots the others leave free; to the others, fewer slots when the
 * concurrency was lowered below what they hold (the oldest first).
 */
export function tellParts(r: Rollout): void {
  const all = [...r.shares.values()];
  const epoch = r.st.budgetEpoch ?? 0;
  let over = -r.st.pace.concurrency;
  for (const s of all) if (!s.feeding) over += s.held;
  for (const [id, s] of r.shares) {
    const others = othersCount(r.st.budget, s);
    let concurrency: number | undefined;
    if (s.feeding) concurrency = feedingSlots(r.st.pace.concurrency, all, s);
    else if (over > 0) {
      concurrency = Math.max(0, s.held - over);
      over -= s.held - concurrency;
    }
    if (concurrency !== undefined) s.held = concurrency;
    const told = s.told;
    if (
      told?.failed === others.failed &&
      told.finished === others.finished &&
      (concurrency === undefined || told.concurrency === concurrency)
    )
      continue;
    s.told = { ...others, concurrency: concurrency ?? told?.concurrency };
    sendToPart(
      r,
      {
        kind: 'share',
        epoch,
        others,
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(r.halting.size > 0 ? { halting: true } : {}),
      },
      [id],
    );
  }
}
