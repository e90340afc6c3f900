import { z } from 'zod';
import type { ChangeWindow, Duration, RolloutPolicy } from '../../../domain/types';
import { formatDuration, parseDuration } from '../../common/duration';
import { parseInstant } from '../../common/instant';
import { parseCron } from '../../windows/cron';
import { isKnownTimeZone } from '../../windows/zone';
import { SMARTAG_ID } from '../inventory';
import { duration, endAfterStart, inOrder, instant, readField, relay, report } from './checks';
import type { RolloutContext } from './rules';

/**
 * The rules of a policy's change windows, freezes and deadline, beside those of `rules.ts`: when
 * the rollout may start a device, and which devices a window or freeze selects.
 */

/** A selector's devices and regions exist. */
function appliesTo(run: RolloutContext) {
  const device = z.custom<string>().superRefine((id, ctx) => {
    if (!SMARTAG_ID.test(id)) report(ctx, `${JSON.stringify(id)} is not a SmartAGId`);
    else if (!run.ids.has(id)) report(ctx, `${id} is not in the inventory`);
  });
  const region = z.custom<string>().refine((r) => run.regions.has(r), {
    error: (i) => `unknown region ${JSON.stringify(i.input)}`,
  });
  return z.object({
    appliesTo: z
      .object({ devices: z.array(device).optional(), regions: z.array(region).optional() })
      .optional(),
  });
}

/** A window's own fields, by kind. */
const windowFields = z.discriminatedUnion(
  'kind',
  [
    z.object({
      kind: z.literal('recurring'),
      cron: z.custom<string>().superRefine((cron, ctx) => {
        readField(parseCron, cron, ctx);
      }),
      timeZone: z.custom<string>().refine(isKnownTimeZone, {
        error: (i) => `unknown time zone ${JSON.stringify(i.input)} (use an IANA name such as Asia/Shanghai)`,
      }),
      duration: duration({ positive: true }),
    }),
    z.object({ kind: z.literal('once'), start: instant, end: instant }).superRefine(endAfterStart),
  ],
  { error: 'must be recurring or once' },
);

/** Change windows, each long enough for one upgrade (expectedUpgradeTime, when it reads). */
export function windows(run: RolloutContext) {
  const selects = appliesTo(run);
  return z.custom<RolloutPolicy>().superRefine((p, ctx) => {
    const window = inOrder<ChangeWindow>(selects, windowFields, longEnough(p.expectedUpgradeTime));
    p.windows.forEach((w, i) => relay(window, w, ctx, ['windows', i]));
  });
}

function longEnough(expectedUpgradeTime: Duration) {
  const expected = readField(parseDuration, expectedUpgradeTime);
  return z.custom<ChangeWindow>().superRefine((w, ctx) => {
    const length = windowLength(w);
    if (length === undefined || length <= 0 || expected === undefined || length >= expected) return;
    report(
      ctx,
      `the window is ${formatDuration(length)} long, shorter than expectedUpgradeTime (${formatDuration(expected)}): no device could start in it`,
      ['duration'],
    );
  });
}

function windowLength(w: ChangeWindow): number | undefined {
  if (w.kind === 'recurring') return readField(parseDuration, w.duration);
  if (w.kind !== 'once') return undefined;
  const start = readField(parseInstant, w.start);
  const end = readField(parseInstant, w.end);
  return start !== undefined && end !== undefined && end > start ? end - start : undefined;
}

const freezeTimes = z.object({ start: instant, end: instant }).superRefine(endAfterStart);

/** Freezes, and a deadline in the future. */
export function freezesAndDeadline(run: RolloutContext) {
  const deadline = z.custom<string>().superRefine((text, ctx) => {
    const at = readField(parseInstant, text, ctx);
    if (at !== undefined && at <= run.nowMs) report(ctx, `${text} is not in the future`);
  });
  return z.object({ freezes: z.array(inOrder(appliesTo(run), freezeTimes)), deadline: deadline.optional() });
}
