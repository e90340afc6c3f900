import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../temporal/tooling';
import { registerAbort } from './commands/abort';
import { registerApprove } from './commands/approve';
import { registerDashboard } from './commands/dashboard';
import { registerDev } from './commands/dev';
import { registerExclude } from './commands/exclude';
import { registerExport } from './commands/export';
import { registerIamPolicy } from './commands/iam-policy';
import { registerList } from './commands/list';
import { registerPause } from './commands/pause';
import { registerPlan } from './commands/plan';
import { registerPromote } from './commands/promote';
import { registerReport } from './commands/report';
import { registerResume } from './commands/resume';
import { registerRetryFailed } from './commands/retry-failed';
import { registerSetPace } from './commands/set-pace';
import { registerSetup } from './commands/setup';
import { registerSimulator } from './commands/simulator';
import { registerStart } from './commands/start';
import { registerStatus } from './commands/status';
import { registerWorker } from './commands/worker';
import { CliProgram, globalOptions } from './context';

/** Builds the `sag-rollout` program: the global options, then every command in the order help lists them. */
export function buildProgram(): CliProgram {
  const program = new CliProgram('sag-rollout')
    .description('Durable, audited fleet upgrades of Alibaba Cloud Smart Access Gateway devices on Temporal')
    .version(version(), '-V, --version');
  globalOptions(program)
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 1 internal error, 2 bad input, 3 refused, 4 not found, 5 rollout halted, aborted or failed, 6 completed with failed devices, 7 completed with no device upgraded.
Results go to stdout, progress and logs to stderr. See docs/cli.md.

First run: npm install && npx sag-rollout dev --demo`,
    );
  for (const register of [
    registerDev,
    registerWorker,
    registerSimulator,
    registerPlan,
    registerStart,
    registerStatus,
    registerDashboard,
    registerList,
    registerReport,
    registerPause,
    registerResume,
    registerAbort,
    registerApprove,
    registerPromote,
    registerExclude,
    registerSetPace,
    registerRetryFailed,
    registerExport,
    registerIamPolicy,
    registerSetup,
  ])
    register(program);
  return program;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}
