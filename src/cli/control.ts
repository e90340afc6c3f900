/** What every control command does: confirm, send the control, print what the rollout answered. */

import type { Command } from 'commander';
import { sendControl, type ControlKind, type ControlOptions } from '../operator/control';
import { defaultOperator, globalsOf, withClient } from './context';
import { ExitCode, type ExitCodeValue } from './errors';
import { cliIdentity } from './identity';
import { confirm, out, outJson } from './output';
import { renderControl } from './render/control';

/** The flags of a control command (see `controlOptions`), and `--no-wait` where it has one. */
interface ControlFlags {
  reason?: string;
  operator?: string;
  requestId?: string;
  yes?: boolean;
  wait?: boolean;
}

/**
 * Sends a control after confirmation (`question`, or `<kind> rollout <id>`) and prints the answer.
 * @returns 3 (refused) when the rollout refused it, else 0.
 */
export async function runControl(
  kind: ControlKind,
  rolloutId: string,
  cmd: Command,
  extra: Partial<ControlOptions> = {},
  question?: string,
): Promise<ExitCodeValue> {
  const o = cmd.opts<ControlFlags>();
  const g = globalsOf(cmd);
  return withClient(cmd, async ({ client, target }) => {
    await confirm(question ?? `${kind} rollout ${rolloutId}`, o.yes);
    const r = await sendControl(client, rolloutId, kind, {
      by: o.operator ?? defaultOperator(),
      identity: cliIdentity(target),
      reason: o.reason,
      requestId: o.requestId,
      noWait: o.wait === false,
      ...extra,
    });
    if (g.json) outJson(r);
    else out(renderControl(r));
    return r.result && !r.result.accepted ? ExitCode.refused : ExitCode.ok;
  });
}
