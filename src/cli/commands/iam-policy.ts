import type { Command } from 'commander';
import type { InventoryDevice } from '../../../domain/types';
import { fitIamPolicy, type FittedIamPolicy } from '../../operator/iam-policy';
import { action, globalsOf } from '../context';
import { CliError, ExitCode } from '../errors';
import { cliSagClient, loadInventoryFrom, type InputFlags } from '../inputs';
import { fleetOptions } from '../options';
import { info } from '../output';
import { writeStdout } from '../render/stdout';

interface IamFlags extends InputFlags {
  accountId?: string;
  includeReboot?: boolean;
  split?: boolean;
}

/** `iam-policy`: the least-privilege RAM policy for an inventory, within RAM's size limit. */
export function registerIamPolicy(program: Command): void {
  fleetOptions(program.command('iam-policy'))
    .description(
      "print the least-privilege RAM policy for an inventory and account ID, within RAM's 6,144-character limit per policy document",
    )
    .option('--account-id <id>', 'the Alibaba Cloud account ID that owns the instances')
    .option('--include-reboot', 'also allow RebootSmartAccessGateway')
    .option(
      '--split',
      'when per-instance ARNs do not fit one policy, split them over several policies instead of widening the largest regions',
    )
    .action(
      action(async (o: IamFlags, cmd: Command) => {
        const inventory = await loadInventoryFrom(o, () => cliSagClient(process.env, 20));
        const fitted = iamPolicy(inventory, o.accountId, {
          includeReboot: Boolean(o.includeReboot),
          split: Boolean(o.split),
        });
        for (const note of fitted.notes) info(`iam-policy: ${note}`);
        // Compact JSON either way: RAM counts the characters of the document as submitted, and
        // indenting adds about a sixth, enough to carry a document fitted compact past the limit.
        if (globalsOf(cmd).json || fitted.documents.length === 1) {
          // One document per line: each is what `aliyun ram CreatePolicy --PolicyDocument` takes.
          await writeStdout(fitted.documents.map((d) => JSON.stringify(d)).join('\n'));
        } else {
          await writeStdout(
            fitted.documents
              .map(
                (d, i) =>
                  `# policy ${i + 1} of ${fitted.documents.length} (${fitted.sizes[i]} characters)\n${JSON.stringify(d)}`,
              )
              .join('\n\n'),
          );
        }
        return ExitCode.ok;
      }),
    );
}

/**
 * The least-privilege RAM policy (or policies) a worker needs for this inventory, each within
 * RAM's limit on a policy document.
 * @throws CliError (bad input) without an account ID; IamPolicyInputError for one that is not digits.
 */
export function iamPolicy(
  inventory: InventoryDevice[],
  accountId: string | undefined,
  opts: { includeReboot: boolean; split: boolean },
): FittedIamPolicy {
  if (!accountId)
    throw new CliError(
      '--account-id is required (the 16-digit Alibaba Cloud account ID that owns the instances)',
      ExitCode.badInput,
    );
  return fitIamPolicy(inventory, accountId.trim(), {
    includeReboot: opts.includeReboot,
    mode: opts.split ? 'split' : 'widen',
  });
}
