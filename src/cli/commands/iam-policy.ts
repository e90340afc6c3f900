import type { Command } from 'commander';
import type { InventoryDevice } from '../../../domain/types';
import { buildIamPolicy, type RamPolicyDocument } from '../../sag/iam-policy';
import { action } from '../context';
import { CliError, ExitCode } from '../errors';
import { cliSagClient, loadInventoryFrom, type InputFlags } from '../inputs';
import { fleetOptions } from '../options';
import { outJson } from '../output';

/** `iam-policy`: the least-privilege RAM policy for an inventory, as JSON. */
export function registerIamPolicy(program: Command): void {
  fleetOptions(program.command('iam-policy'))
    .description('print the least-privilege RAM policy for an inventory and account ID')
    .option('--account-id <id>', 'the Alibaba Cloud account ID that owns the instances')
    .option('--include-reboot', 'also allow RebootSmartAccessGateway')
    .action(
      action(async (o: InputFlags & { accountId?: string; includeReboot?: boolean }) => {
        const inventory = await loadInventoryFrom(o, () => cliSagClient(process.env, 20));
        outJson(iamPolicy(inventory, o.accountId, Boolean(o.includeReboot)));
        return ExitCode.ok;
      }),
    );
}

/**
 * The least-privilege RAM policy a worker needs for this inventory: the per-instance actions on
 * each instance's ARN, the list actions on `*`.
 * @throws CliError (bad input) for an account ID that is not digits.
 */
export function iamPolicy(
  inventory: InventoryDevice[],
  accountId: string | undefined,
  includeReboot: boolean,
): RamPolicyDocument {
  if (!accountId)
    throw new CliError(
      '--account-id is required (the 16-digit Alibaba Cloud account ID that owns the instances)',
      ExitCode.badInput,
    );
  return buildIamPolicy(inventory, accountId.trim(), { includeReboot });
}
