import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { DeviceStatusOutcome } from '../../../domain/types';
import {
  DEFAULT_EXPORT_SELECTION,
  DEVICE_OUTCOMES,
  exportDevices,
  selectionText,
  type ExportSelection,
  type RolloutExport,
} from '../../operator/export';
import { action, globalsOf, withClient } from '../context';
import { CliError, ExitCode } from '../errors';
import { info, out, outJson } from '../output';
import { writeStdout } from '../render/stdout';
import { renderInventoryCsv, renderInventoryJson } from '../render/inventory';

interface ExportFlags {
  outcome?: string;
  format?: string;
  out?: string;
}

/** `export`: a rollout's devices with given outcomes, as an inventory file `start` and `plan` accept. */
export function registerExport(program: Command): void {
  program
    .command('export <rolloutId>')
    .description(
      `write the devices of a rollout with given outcomes (default: ${selectionText(DEFAULT_EXPORT_SELECTION)}) as an inventory file that start and plan accept`,
    )
    .option(
      '--outcome <list>',
      `comma-separated outcomes: ${DEVICE_OUTCOMES.join(', ')} (default: ${selectionText(DEFAULT_EXPORT_SELECTION)})`,
    )
    .option('--format <format>', 'csv or json (default: from the --out file name, else csv)')
    .option('--out <file>', 'write to this file (default: stdout)')
    .action(
      action(async (rolloutId: string, o: ExportFlags, cmd: Command) => {
        const select = parseOutcomes(o.outcome);
        const json = Boolean(globalsOf(cmd).json);
        const format = parseFormat(o.format, o.out, json);
        const e = await withClient(cmd, ({ client }) => exportDevices(client, rolloutId, select));
        if (e.devices.length === 0) {
          throw new CliError(
            `rollout ${rolloutId} (${e.state}) has no device that is ${selectionText(select)}: nothing was written`,
            ExitCode.refused,
          );
        }
        if (!e.closed)
          info(
            `warning: rollout ${rolloutId} is still ${e.state}: its pending and in-progress devices may still be upgraded by it, and a rollout started on them is refused them while it holds them`,
          );
        const text = format === 'json' ? renderInventoryJson(e) : renderInventoryCsv(e);
        if (!o.out) {
          await writeStdout(text);
          return ExitCode.ok;
        }
        writeFileSync(o.out, text);
        const summary = summarise(e);
        if (json) outJson({ rolloutId, file: o.out, format, devices: e.devices.length, counts: summary });
        else
          out(
            `exported ${e.devices.length} ${e.devices.length === 1 ? 'device' : 'devices'} of rollout ${rolloutId} (${Object.entries(
              summary,
            )
              .map(([k, n]) => `${n} ${k}`)
              .join(', ')}) to ${path.relative(process.cwd(), o.out) || o.out}`,
          );
        return ExitCode.ok;
      }),
    );
}

/**
 * `--outcome failed,pending` as a selection of exactly those outcomes; without it, the default.
 * @throws CliError (bad input) naming an unknown outcome and the known ones.
 */
function parseOutcomes(list: string | undefined): ExportSelection {
  if (list === undefined)
    return {
      outcomes: [...DEFAULT_EXPORT_SELECTION.outcomes],
      notReached: DEFAULT_EXPORT_SELECTION.notReached,
    };
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = items.filter((s) => !(DEVICE_OUTCOMES as readonly string[]).includes(s));
  if (items.length === 0 || unknown.length > 0)
    throw new CliError(
      `--outcome: ${unknown.length > 0 ? unknown.map((s) => JSON.stringify(s)).join(', ') : 'nothing'} ${unknown.length > 1 ? 'are not outcomes' : 'is not an outcome'}; use a comma-separated list of ${DEVICE_OUTCOMES.join(', ')}`,
      ExitCode.badInput,
    );
  return { outcomes: [...new Set(items)] as DeviceStatusOutcome[], notReached: false };
}

/** The file format: `--format`, else the `--out` file's extension, else JSON with `--json` on stdout, else CSV. */
function parseFormat(format: string | undefined, file: string | undefined, json: boolean): 'csv' | 'json' {
  if (format !== undefined) {
    if (format === 'csv' || format === 'json') return format;
    throw new CliError(`--format: ${JSON.stringify(format)} is not csv or json`, ExitCode.badInput);
  }
  if (file) return /\.json$/i.test(file) ? 'json' : 'csv';
  return json ? 'json' : 'csv';
}

function summarise(e: RolloutExport): Record<string, number> {
  const by: Record<string, number> = {};
  for (const d of e.devices) by[d.outcome] = (by[d.outcome] ?? 0) + 1;
  return by;
}
