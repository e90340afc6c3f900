/** `--watch`: following a rollout until it closes, as bars on a terminal or lines elsewhere. */

import type { Client } from '@temporalio/client';
import { NoWorkerError } from '../operator/errors';
import { getRolloutStatus, type RolloutStatus } from '../operator/status';
import { statusEvents } from './render/events';
import { statusJson } from './render/json';
import { lastSeenLine } from './render/last-seen';
import { renderProgress } from './render/progress';
import { clock } from './render/table';

export interface WatchOptions {
  /** Poll interval, ms. */
  intervalMs: number;
  /** `live`: redraw bars in place (a terminal); `lines`: plain event lines; `json`: one JSON document per change. */
  mode: 'live' | 'lines' | 'json';
  write: (text: string) => void;
  /** Stop when this returns true (besides the rollout closing). */
  until?: (s: RolloutStatus) => boolean;
  /** Called after each read, e.g. to act on a gate (the demo approves and resumes through it). */
  onStatus?: (s: RolloutStatus) => Promise<void> | void;
  /** Plain lines for each finished device too. */
  deviceLines?: boolean;
  signal?: AbortSignal;
  /** Extra lines drawn under the live view (terminal only). */
  footer?: () => string[];
}

/**
 * Follows a rollout until it closes (or `until` holds), rendering each change: progress bars
 * redrawn in place on a terminal, plain event lines otherwise. A worker that stops answering is
 * reported once and waited for.
 * @returns the last status read.
 */
export async function watchRollout(
  client: Client,
  rolloutId: string,
  o: WatchOptions,
): Promise<RolloutStatus> {
  let prev: RolloutStatus | undefined;
  let drawn = 0;
  let noWorker = false;
  const live = o.mode === 'live';
  if (live) o.write('\u001b[?25l');
  try {
    for (;;) {
      let s: RolloutStatus | undefined;
      try {
        s = await getRolloutStatus(client, rolloutId);
        if (noWorker) {
          noWorker = false;
          if (o.mode === 'lines') o.write(`${clock()} a worker answers again\n`);
          else if (o.mode === 'json') process.stderr.write(`${clock()} a worker answers again\n`);
        }
      } catch (err) {
        if (!(err instanceof NoWorkerError)) throw err;
        if (!noWorker) {
          noWorker = true;
          // JSON Lines stay JSON on stdout: the notice goes to stderr there.
          const line = `${clock()} ${lastSeenLine(err)}; waiting\n`;
          if (o.mode === 'json') process.stderr.write(line);
          else o.write(line);
          drawn = 0;
        }
      }
      if (s) {
        if (live) {
          const lines = [
            ...renderProgress(s, { width: process.stdout.columns ?? 100, color: true }),
            ...(o.footer?.() ?? []),
          ];
          o.write(`${drawn > 0 ? `\u001b[${drawn}F\u001b[J` : ''}${lines.join('\n')}\n`);
          drawn = lines.length;
        } else if (o.mode === 'json') {
          const doc = JSON.stringify(statusJson(s));
          if (!prev || doc !== JSON.stringify(statusJson(prev))) o.write(`${doc}\n`);
        } else {
          for (const line of statusEvents(prev, s, { devices: o.deviceLines })) o.write(`${line}\n`);
        }
        await o.onStatus?.(s);
        prev = s;
        if (s.closed || o.until?.(s)) return s;
      }
      if (o.signal?.aborted) {
        if (prev) return prev;
        throw new Error('watch interrupted');
      }
      await new Promise((r) => setTimeout(r, o.intervalMs));
    }
  } finally {
    if (live) o.write('\u001b[?25h');
  }
}

/**
 * `--exit-on-halt`'s stop: the rollout halted (its failure budget or its credentials stopped it:
 * paused, or aborting on a breach).
 */
export function halted(s: RolloutStatus): boolean {
  return s.haltReason !== undefined;
}

/**
 * How `--watch` draws: bars redrawn in place on a terminal (Ctrl-C restores the cursor), plain
 * event lines otherwise, JSON documents with `--json`.
 */
export function watchMode(
  json: boolean,
  intervalMs: number,
): Pick<WatchOptions, 'intervalMs' | 'mode' | 'write'> {
  const live = !json && Boolean(process.stdout.isTTY);
  if (live) {
    process.once('SIGINT', () => {
      process.stdout.write('\u001b[?25h\n');
      process.exit(130);
    });
  }
  return {
    intervalMs,
    mode: json ? 'json' : live ? 'live' : 'lines',
    write: (t: string) => process.stdout.write(t),
  };
}
