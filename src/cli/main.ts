import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { parseDuration } from '../config/duration';
import { runSimulatorCommand } from '../simulator/command';
import { projectRoot } from '../temporal/tooling';
import { sendControl, renderControl, type ControlKind, type ControlOptions } from './commands/control';
import { runDev } from './commands/dev';
import { isClosed, planFollowUp, renderFollowUp, startFollowUp } from './commands/follow-up';
import { iamPolicy } from './commands/iam-policy';
import { listRollouts } from './commands/list';
import { planRollout } from './commands/plan';
import { buildReport } from './commands/report';
import { registerSetup } from './commands/setup';
import { checkRolloutId, newRolloutId, startRollout } from './commands/start';
import { exitCodeForState, readStatus, watchRollout } from './commands/status';
import {
  createWorker,
  describeSignature,
  installLogging,
  REGISTER_FLAG,
  REGISTER_HELP,
} from './commands/worker';
import {
  confirm,
  connect,
  defaultOperator,
  disconnect,
  info,
  out,
  outJson,
  targetOf,
  type GlobalOptions,
} from './context';
import { CliError, ExitCode, classifyError, type ExitCodeValue } from './errors';
import {
  cliSagClient,
  loadInventoryFrom,
  loadPolicyFrom,
  positiveNumber,
  resolveSagCredentials,
  sagSignature,
  validateAll,
  wholeNumber,
  type InputFlags,
} from './inputs';
import { statusJson } from './render/json';
import { renderPlanText } from './render/plan';
import { renderStatusText } from './render/status-text';
import { renderTable } from './render/table';
import { NoWorkerError, RolloutNotFoundError } from './status';
import { checkWebhooksBeforeStart, localWebhookWarnings, policyWebhookNames } from './webhooks';

/** The exit code the running command asks for (set by actions, read by {@link main}). */
let exitCode: ExitCodeValue = ExitCode.ok;

function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

function duration(flag: string) {
  return (v: string): number => {
    const ms = parseDuration(v, flag);
    if (ms <= 0) throw new CliError(`${flag}: must be longer than 0`, ExitCode.badInput);
    return ms;
  };
}

const SIGNATURE_FLAG = '--signature <version>';
const SIGNATURE_HELP =
  'how smartag calls are signed: v2 (@alicloud/pop-core, HMAC-SHA1) or v3 (@alicloud/openapi-client, ACS3-HMAC-SHA256); default SAG_SIGNATURE or v2';

/** --inventory / discovery / policy flags shared by plan, start and iam-policy. */
function fleetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--inventory <file>',
      'the fleet: a CSV (SmartAGId,RegionId[,SerialNumber,group,tags]) or JSON file',
    )
    .option(
      '--discover-region <region>',
      'or discover the fleet in this region through DescribeSmartAccessGateways (needs credentials)',
    )
    .option(
      '--discover-version-below <version>',
      'with --discover-region: only instances whose firmware is older than this',
    );
}

function policyOptions(cmd: Command): Command {
  return fleetOptions(cmd)
    .option('--policy <file>', 'rollout policy file (YAML or JSON); the flags below override it')
    .option(
      '--target-version <version>',
      'the VersionCode to roll out (e.g. 2.4.0.0, or 20201117_1_0-0.0.1 for Dpi)',
    )
    .option('--version-type <type>', 'Device (firmware) or Dpi (signature database)')
    .option('--canary <n|p%>', 'canary size: N devices or P% of the inventory, from the top')
    .option(
      '--waves <list>',
      'cumulative shares after the canary, e.g. 10%,50%,100%; or fixed sizes, e.g. 100,200,rest',
    )
    .option('--concurrency <n>', 'devices in flight at once')
    .option('--max-per-minute <n>', 'devices started per minute')
    .option('--max-failures <p%>', 'failure budget: share of finished devices that may fail, e.g. 5%')
    .option('--bake <duration>', 'wait after each wave before the next (30s, 10m, 2h)')
    .option('--require-approval <when>', 'approval gate: none, canary or each-wave')
    .option('--verify-timeout <duration>', 'how long a device may take to come back on the target version');
}

function controlOptions(cmd: Command): Command {
  return cmd
    .option('--reason <text>', 'why (kept in the audit trail)')
    .option('--operator <name>', 'who sends it (default: the OS user)')
    .option(
      '--request-id <id>',
      'idempotency key: repeating a command with the same key changes nothing (default: a fresh UUID)',
    )
    .option('-y, --yes', 'do not ask for confirmation');
}

async function withClient<T>(
  cmd: Command,
  fn: (ctx: Awaited<ReturnType<typeof connect>>) => Promise<T>,
): Promise<T> {
  const ctx = await connect(globals(cmd));
  try {
    return await fn(ctx);
  } finally {
    await disconnect(ctx.client);
  }
}

async function control(
  kind: ControlKind,
  rolloutId: string,
  cmd: Command,
  extra: Partial<ControlOptions> = {},
  question?: string,
): Promise<void> {
  const o = cmd.opts<{
    reason?: string;
    operator?: string;
    requestId?: string;
    yes?: boolean;
    wait?: boolean;
  }>();
  const g = globals(cmd);
  await withClient(cmd, async ({ client }) => {
    await confirm(question ?? `${kind} rollout ${rolloutId}`, o.yes);
    const r = await sendControl(client, rolloutId, kind, {
      by: o.operator ?? defaultOperator(),
      reason: o.reason,
      requestId: o.requestId,
      noWait: o.wait === false,
      ...extra,
    });
    if (g.json) outJson(r);
    else out(renderControl(r));
    if (r.result && !r.result.accepted) exitCode = ExitCode.refused;
  });
}

/** Builds the `sag-rollout` program. */
export function buildProgram(): Command {
  const program = new Command('sag-rollout')
    .description('Durable, audited fleet upgrades of Alibaba Cloud Smart Access Gateway devices on Temporal')
    .version(version(), '-V, --version')
    .option(
      '--address <host:port>',
      'Temporal frontend (default: TEMPORAL_ADDRESS, a TEMPORAL_PROFILE, or localhost:7233)',
    )
    .option('--namespace <ns>', 'Temporal namespace (default: TEMPORAL_NAMESPACE or default)')
    .option('--task-queue <name>', 'task queue of the workers', undefined)
    .option('--json', 'print results as JSON on stdout')
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 1 internal error, 2 bad input, 3 refused, 4 not found, 5 rollout halted, aborted or failed.
Results go to stdout, progress and logs to stderr. See docs/cli.md.

First run: npm install && npx sag-rollout dev --demo`,
    );

  // ---------------------------------------------------------------- dev, worker, simulator
  program
    .command('dev')
    .description(
      'start a local Temporal dev server (SQLite in .data/, web UI), the SAG simulator and a worker together',
    )
    .option('--demo', 'run the demo rollout of ~300 simulated devices, then exit (0 when it worked)')
    .option('--port <port>', 'Temporal gRPC port (default 7233 when free; the UI is on port + 1000)', (v) =>
      wholeNumber(v, '--port', 1),
    )
    .option('--ui-port <port>', 'Temporal web UI port', (v) => wholeNumber(v, '--ui-port', 1))
    .option('--no-ui', 'run the dev server without its web UI')
    .option('--db <file>', 'SQLite file of the dev server (default .data/temporal.db)')
    .option('--devices <n>', 'simulated instances (default 50; 300 for --demo)', (v) =>
      wholeNumber(v, '--devices', 1),
    )
    .option('--seed <n>', 'seed of the generated fleet', (v) => wholeNumber(v, '--seed'))
    .option('--fleet <file>', 'simulator fleet file instead of a generated fleet (see docs/simulator.md)')
    .option('--api-rate <r>', 'smartag requests per second (default 20; 100 for --demo)', (v) =>
      positiveNumber(v, '--api-rate'),
    )
    .option('--reports-dir <dir>', 'where closing rollouts write their reports', 'reports')
    .option(
      '--demo-pause <duration>',
      'how long the demo shows the approval gate and the halt before acting',
      duration('--demo-pause'),
      5000,
    )
    .option(SIGNATURE_FLAG, SIGNATURE_HELP)
    .action(
      async (
        o: {
          demo?: boolean;
          port?: number;
          uiPort?: number;
          ui: boolean;
          db?: string;
          devices?: number;
          seed?: number;
          fleet?: string;
          apiRate?: number;
          reportsDir: string;
          demoPause: number;
          signature?: string;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const signature = sagSignature(o.signature, process.env);
        exitCode = await runDev({
          signature,
          port: o.port,
          uiPort: o.ui ? o.uiPort : false,
          dbFile: o.db ? path.resolve(o.db) : undefined,
          devices: o.devices,
          seed: o.seed,
          fleet: o.fleet,
          apiRate: o.apiRate ?? (o.demo ? 100 : 20),
          reportsDir: path.resolve(o.reportsDir),
          taskQueue: targetOf(g).taskQueue,
          demo: Boolean(o.demo),
          demoPauseSeconds: o.demoPause / 1000,
          json: Boolean(g.json),
        });
      },
    );

  program
    .command('worker')
    .description(
      'run a worker: hosts the rollout workflows and activities on the task queue (Ctrl-C stops it)',
    )
    .option(
      '--api-rate <r>',
      "the account's smartag request rate across this worker, per second",
      (v) => positiveNumber(v, '--api-rate'),
      20,
    )
    .option('--reports-dir <dir>', 'where closing rollouts write their reports', 'reports')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .option(
      '--webhooks <file>',
      "the webhooks' URLs and headers by name, YAML or JSON (default: SAG_WEBHOOKS_FILE)",
    )
    .option(SIGNATURE_FLAG, SIGNATURE_HELP)
    .option(REGISTER_FLAG, REGISTER_HELP)
    .addHelpText(
      'after',
      `
Credentials come from the Alibaba Cloud credential chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, a profile,
an OIDC or ECS RAM role). With SAG_ENDPOINT pointing at a simulator, SAG_SIMULATOR_ACCESS_KEY_ID and
SAG_SIMULATOR_ACCESS_KEY_SECRET also do. Without credentials the worker refuses to start.

Policies name their webhooks; the worker resolves each name to its URL (and headers) from
SAG_WEBHOOK_<NAME>_URL (and SAG_WEBHOOK_<NAME>_HEADERS, a JSON object) or the --webhooks file
(docs/notifications.md). The environment wins over the file.`,
    )
    .action(
      async (
        o: {
          apiRate: number;
          reportsDir: string;
          logLevel: string;
          webhooks?: string;
          signature?: string;
          registerSearchAttributes: boolean;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        // Refuse before anything heavy starts, naming what is wrong or missing.
        const signature = sagSignature(o.signature, process.env);
        resolveSagCredentials(process.env);
        installLogging(o.logLevel);
        const target = targetOf(g);
        const { worker, credentialSource, webhooks } = await createWorker({
          target,
          taskQueue: target.taskQueue,
          apiRate: o.apiRate,
          reportsDir: path.resolve(o.reportsDir),
          env: process.env,
          webhooksFile: o.webhooks,
          signature,
          registerSearchAttributes: o.registerSearchAttributes,
        });
        info(
          `worker: polling task queue ${worker.taskQueue} at ${target.connectionOptions.address} (namespace ${target.namespace}); ` +
            `credentials from ${credentialSource}; smartag ${process.env.SAG_ENDPOINT ? process.env.SAG_ENDPOINT : 'regional endpoints'}, ${describeSignature(signature)}; API rate ${o.apiRate}/s; ` +
            `webhooks: ${webhooks}; Ctrl-C stops it`,
        );
        await worker.worker.run();
        await worker.connection.close().catch(() => undefined);
        info('worker: stopped');
      },
    );

  program
    .command('simulator')
    .description(
      'run the SAG simulator: a local smartag endpoint over a simulated fleet (see docs/simulator.md)',
    )
    .option('--port <port>', 'TCP port (default: a free one)', (v) => wholeNumber(v, '--port'))
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--fleet <file>', 'fleet file')
    .option('--devices <n>', 'generate this many instances (default 20)', (v) =>
      wholeNumber(v, '--devices', 1),
    )
    .option('--seed <n>', 'seed of the generated fleet', (v) => wholeNumber(v, '--seed'))
    .option('--access-key-id <id>', 'AccessKey the simulator accepts (default: a generated pair)')
    .option(
      '--access-key-secret <secret>',
      'its secret (or SAG_SIMULATOR_ACCESS_KEY_SECRET, which keeps it out of the process list)',
    )
    .action(
      async (o: {
        port?: number;
        host: string;
        fleet?: string;
        devices?: number;
        seed?: number;
        accessKeyId?: string;
        accessKeySecret?: string;
      }) => {
        await runSimulatorCommand(o);
      },
    );

  registerSetup(program, (code) => (exitCode = code));

  // ---------------------------------------------------------------- plan, start
  policyOptions(program.command('plan'))
    .description(
      'dry run: the waves, and every device that would be skipped or fail preflight, with the reason (read-only API calls)',
    )
    .option('--api-rate <r>', 'smartag read requests per second', (v) => positiveNumber(v, '--api-rate'), 20)
    .action(async (o: InputFlags & { apiRate: number }, cmd: Command) => {
      const g = globals(cmd);
      const policy = loadPolicyFrom(o);
      const sag = cliSagClient(process.env, o.apiRate);
      const inventory = await loadInventoryFrom(o, () => sag);
      validateAll(policy, inventory, {});
      for (const w of localWebhookWarnings(policyWebhookNames(policy), process.env)) info(`warning: ${w}`);
      const tty = Boolean(process.stderr.isTTY);
      const plan = await planRollout(sag, inventory, policy, {
        concurrency: Math.max(1, Math.ceil(o.apiRate / 2)),
        onProgress: (done, total) => {
          if (tty && (done % 10 === 0 || done === total))
            process.stderr.write(`\rinspecting ${done}/${total}${done === total ? '\n' : ''}`);
        },
      });
      if (g.json) outJson(plan);
      else out(renderPlanText(plan));
    });

  policyOptions(program.command('start'))
    .description('start a rollout (asks for confirmation, or --yes)')
    .option(
      '--rollout-id <id>',
      'the rollout ID (default: generated); starting an existing ID starts nothing and reports it',
    )
    .option('--ticket <ticket>', 'change ticket the rollout runs under')
    .option('--operator <name>', 'who starts it (default: the OS user)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--watch', 'follow the rollout until it closes (as status --watch)')
    .option('--interval <duration>', 'with --watch: poll interval', duration('--interval'), 1000)
    .action(
      async (
        o: InputFlags & { rolloutId?: string; yes?: boolean; watch?: boolean; interval: number },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const policy = loadPolicyFrom(o);
        const rolloutId = o.rolloutId !== undefined ? checkRolloutId(o.rolloutId) : undefined;
        const inventory = await loadInventoryFrom(o, () => cliSagClient(process.env, 20));
        const operator = o.operator ?? defaultOperator();
        validateAll(policy, inventory, { ticket: o.ticket, operator });
        await withClient(cmd, async ({ client, taskQueue }) => {
          const id = rolloutId ?? newRolloutId(policy.targetVersion);
          for (const w of await checkWebhooksBeforeStart(client, taskQueue, policy, process.env))
            info(`warning: ${w}`);
          await confirm(
            `start rollout ${id}: ${inventory.length} devices to ${policy.targetVersion} (${policy.versionType})`,
            o.yes,
          );
          const r = await startRollout(client, {
            rolloutId: id,
            inventory,
            policy,
            operator,
            ticket: o.ticket,
            taskQueue,
          });
          if (g.json) outJson(r);
          else if (r.started) {
            out(
              `started rollout ${r.rolloutId}: ${r.devices} devices in ${r.waves.map((w) => `${w.name} (${w.size})`).join(', ')}`,
            );
            if (!o.watch) info(`follow it: sag-rollout status ${r.rolloutId} --watch`);
          } else {
            out(
              `rollout ${r.rolloutId} already exists (${r.existing?.state ?? r.existing?.workflowStatus.toLowerCase()}): nothing was started`,
            );
          }
          if (o.watch) {
            const final = await watchRollout(client, r.rolloutId, watchMode(Boolean(g.json), o.interval));
            exitCode = exitCodeForState(final);
          }
        });
      },
    );

  // ---------------------------------------------------------------- status, list, report
  program
    .command('status <rolloutId>')
    .description(
      'show a rollout: state, waves, device counts and every device not upgraded (--watch follows it live)',
    )
    .option(
      '-w, --watch',
      'follow until it closes: progress bars on a terminal, plain event lines otherwise (JSON lines with --json)',
    )
    .option('--interval <duration>', 'with --watch: poll interval', duration('--interval'), 1000)
    .option('--all-devices', 'list every device, also the upgraded and pending ones')
    .option('--device-lines', 'with --watch off a terminal: a line for every device that finishes')
    .action(
      async (
        rolloutId: string,
        o: { watch?: boolean; interval: number; allDevices?: boolean; deviceLines?: boolean },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        await withClient(cmd, async ({ client }) => {
          if (o.watch) {
            const final = await watchRollout(client, rolloutId, {
              ...watchMode(Boolean(g.json), o.interval),
              deviceLines: o.deviceLines,
            });
            exitCode = exitCodeForState(final);
            return;
          }
          const s = await readStatus(client, rolloutId);
          if (g.json) outJson(statusJson(s));
          else out(renderStatusText(s, { allDevices: o.allDevices }));
          exitCode = exitCodeForState(s);
        });
      },
    );

  program
    .command('dashboard')
    .description('serve a live web view of rollouts with the operator controls (loopback by default)')
    .option('--port <port>', 'TCP port', (v) => wholeNumber(v, '--port', 0), 7780)
    .option('--host <host>', 'interface to bind; anything but loopback needs --token', '127.0.0.1')
    .option('--token <token>', 'access token required by every request (also SAG_DASHBOARD_TOKEN)')
    .option(
      '--temporal-ui <url>',
      'Temporal web UI base URL for links to device workflows',
      'http://127.0.0.1:8233',
    )
    .option('--operator <name>', 'name the page proposes for the operator', defaultOperator())
    .action(
      async (
        o: { port: number; host: string; token?: string; temporalUi: string; operator: string },
        cmd: Command,
      ) => {
        const { startDashboard } = await import('../dashboard/server.js');
        const { client } = await connect(globals(cmd));
        const dashboard = await startDashboard({
          client,
          port: o.port,
          host: o.host,
          token: o.token ?? (process.env.SAG_DASHBOARD_TOKEN || undefined),
          temporalUiUrl: o.temporalUi,
          operator: o.operator,
        });
        info(`dashboard: ${dashboard.loginUrl}`);
        out(dashboard.url);
        await new Promise<void>((resolve) => {
          const stop = () => void dashboard.stop().then(resolve, resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await disconnect(client);
      },
    );

  program
    .command('list')
    .description(
      'list rollouts, newest first, by state or target version (search attributes SagRolloutState, SagTargetVersion)',
    )
    .option(
      '--state <state>',
      'running, paused, waiting-approval, waiting-window, completed, aborted or failed',
    )
    .option('--target-version <version>', 'only rollouts to this version')
    .option('--limit <n>', 'at most this many', (v) => wholeNumber(v, '--limit', 1), 50)
    .action(async (o: { state?: string; targetVersion?: string; limit: number }, cmd: Command) => {
      const g = globals(cmd);
      await withClient(cmd, async ({ client }) => {
        const rows = await listRollouts(client, o);
        if (g.json) outJson(rows);
        else if (rows.length === 0) out('no rollouts match');
        else
          out(
            renderTable(
              ['ROLLOUT', 'STATE', 'TARGET', 'WORKFLOW', 'STARTED', 'CLOSED'],
              rows.map((r) => [
                r.rolloutId,
                r.state,
                r.targetVersion,
                r.workflowStatus,
                r.startedAt,
                r.closedAt,
              ]),
            ),
          );
      });
    });

  program
    .command('report <rolloutId>')
    .description(
      'write the audit report: JSON Lines, CSV and a self-contained HTML page (or one format with --format)',
    )
    .option(
      '--format <format>',
      'only this format: jsonl, csv (devices) or html; without --out it goes to stdout',
    )
    .option('--out <path>', 'a directory (or, with --format, a file) to write to (default: --reports-dir)')
    .option('--reports-dir <dir>', 'directory for the report files', 'reports')
    .action(
      async (rolloutId: string, o: { format?: string; out?: string; reportsDir: string }, cmd: Command) => {
        const g = globals(cmd);
        await withClient(cmd, async ({ client }) => {
          const r = await buildReport(client, rolloutId, {
            format: o.format,
            out: o.out,
            dir: path.resolve(o.reportsDir),
          });
          if (r.text !== undefined) process.stdout.write(r.text);
          else if (g.json) outJson({ rolloutId: r.rolloutId, files: r.files });
          else out(r.files.map((f) => path.relative(process.cwd(), f) || f).join('\n'));
        });
      },
    );

  // ---------------------------------------------------------------- controls
  controlOptions(program.command('pause <rolloutId>'))
    .description('pause: no new device starts; upgrades in flight finish (a Signal when no worker answers)')
    .option('--no-wait', 'send the Signal and return, without waiting for the rollout to answer')
    .action((id: string, _o: unknown, cmd: Command) => control('pause', id, cmd));
  controlOptions(program.command('resume <rolloutId>'))
    .description('resume a paused or halted rollout (a halted one starts with a fresh failure budget)')
    .action((id: string, _o: unknown, cmd: Command) => control('resume', id, cmd));
  controlOptions(program.command('abort <rolloutId>'))
    .description(
      'abort: start no more devices, let upgrades in flight finish, compensate the batch in flight',
    )
    .option('--no-compensate', 'do not compensate the batch in flight')
    .option('--no-wait', 'send the Signal and return, without waiting for the rollout to answer')
    .action((id: string, o: { compensate: boolean }, cmd: Command) =>
      control('abort', id, cmd, { compensate: o.compensate }, `abort rollout ${id}`),
    );
  controlOptions(program.command('approve <rolloutId>'))
    .description('approve the wave waiting at an approval gate')
    .option('--wave <n>', 'the wave whose gate this approves (default: the one waiting)', (v) =>
      wholeNumber(v, '--wave'),
    )
    .action((id: string, o: { wave?: number }, cmd: Command) =>
      control('approve', id, cmd, { wave: o.wave }),
    );
  controlOptions(program.command('promote <rolloutId>'))
    .description('skip the rest of the bake or gate that is waiting')
    .action((id: string, _o: unknown, cmd: Command) => control('promote', id, cmd));
  controlOptions(program.command('exclude <rolloutId> <smartAgIds...>'))
    .description('exclude devices that have not started yet from the rollout')
    .action((id: string, ids: string[], _o: unknown, cmd: Command) =>
      control('exclude', id, cmd, { smartAgIds: ids }, `exclude ${ids.join(', ')} from rollout ${id}`),
    );
  controlOptions(program.command('set-pace <rolloutId>'))
    .description('change the pace: devices in flight and devices started per minute')
    .option('--concurrency <n>', 'devices in flight', (v) => wholeNumber(v, '--concurrency', 1))
    .option('--max-per-minute <n>', 'devices started per minute (0 removes the cap)', (v) =>
      wholeNumber(v, '--max-per-minute', 0),
    )
    .action((id: string, o: { concurrency?: number; maxPerMinute?: number }, cmd: Command) => {
      if (o.concurrency === undefined && o.maxPerMinute === undefined)
        throw new CliError('set-pace needs --concurrency or --max-per-minute', ExitCode.badInput);
      return control('set-pace', id, cmd, { concurrency: o.concurrency, maxPerMinute: o.maxPerMinute });
    });
  controlOptions(program.command('retry-failed <rolloutId>'))
    .description(
      'queue every failed or compensated device of a running rollout for another attempt; on a closed rollout, ' +
        'start a follow-up rollout <rolloutId>-retry-N of its failed, unconfirmed and compensated devices under its policy',
    )
    .option('--ticket <ticket>', 'closed rollout: the change ticket the follow-up runs under')
    .option(
      '--resend-unconfirmed',
      'closed rollout: send the upgrade again to an unconfirmed device that shows no sign of it within the settle (noSignAfterSettle: resend for the follow-up)',
    )
    .option('--watch', 'closed rollout: follow the follow-up until it closes (as status --watch)')
    .option('--interval <duration>', 'with --watch: poll interval', duration('--interval'), 1000)
    .action(
      async (
        id: string,
        o: {
          operator?: string;
          ticket?: string;
          yes?: boolean;
          watch?: boolean;
          interval: number;
          resendUnconfirmed?: boolean;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        if (!(await withClient(cmd, ({ client }) => isClosed(client, id))))
          return control('retry-failed', id, cmd);
        await withClient(cmd, async ({ client }) => {
          const operator = o.operator ?? defaultOperator();
          const plan = await planFollowUp(client, id, {
            operator,
            ticket: o.ticket,
            taskQueue: g.taskQueue,
            env: process.env,
          });
          for (const w of plan.warnings) info(`warning: ${w}`);
          const policy = plan.input.policy;
          await confirm(
            `start follow-up rollout ${plan.id} of closed rollout ${id}: ${plan.inventory.length} devices (${plan.inventory.map((d) => d.smartAgId).join(', ')}) to ${policy.targetVersion} (${policy.versionType})${o.resendUnconfirmed ? ', sending again where no sign shows' : ''}`,
            o.yes,
          );
          const r = await startFollowUp(client, plan, {
            operator,
            ticket: o.ticket,
            resendUnconfirmed: o.resendUnconfirmed,
          });
          if (g.json) outJson(r);
          else {
            out(renderFollowUp(r));
            if (!o.watch) info(`follow it: sag-rollout status ${r.followUp.rolloutId} --watch`);
          }
          if (o.watch) {
            const final = await watchRollout(
              client,
              r.followUp.rolloutId,
              watchMode(Boolean(g.json), o.interval),
            );
            exitCode = exitCodeForState(final);
          }
        });
      },
    );

  // ---------------------------------------------------------------- iam-policy
  fleetOptions(program.command('iam-policy'))
    .description('print the least-privilege RAM policy for an inventory and account ID')
    .option('--account-id <id>', 'the Alibaba Cloud account ID that owns the instances')
    .option('--include-reboot', 'also allow RebootSmartAccessGateway')
    .action(async (o: InputFlags & { accountId?: string; includeReboot?: boolean }) => {
      const inventory = await loadInventoryFrom(o, () => cliSagClient(process.env, 20));
      outJson(iamPolicy(inventory, o.accountId, Boolean(o.includeReboot)));
    });

  return program;
}

function watchMode(json: boolean, intervalMs: number) {
  const live = !json && Boolean(process.stdout.isTTY);
  if (live) {
    process.once('SIGINT', () => {
      process.stdout.write('\u001b[?25h\n');
      process.exit(130);
    });
  }
  return {
    intervalMs,
    mode: json ? ('json' as const) : live ? ('live' as const) : ('lines' as const),
    write: (t: string) => process.stdout.write(t),
  };
}

/**
 * Runs the CLI and returns its exit code (see {@link ExitCode}). Errors are printed as one clear
 * message on stderr; `--json` also prints `{"error": ..., "exitCode": ...}` on stdout.
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  exitCode = ExitCode.ok;
  const program = buildProgram();
  program.exitOverride();
  for (const c of program.commands) c.exitOverride();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return ExitCode.ok;
      if (err.code === 'commander.executeSubCommandAsync') return ExitCode.ok;
      // Commander already printed its message on stderr.
      return ExitCode.badInput;
    }
    let e = err;
    if (err instanceof RolloutNotFoundError) e = new CliError(err.message, ExitCode.notFound);
    if (err instanceof NoWorkerError) e = new CliError(err.message, ExitCode.internal);
    const { message, details, exitCode: code } = classifyError(e);
    process.stderr.write(`sag-rollout: ${message}\n${details.map((d) => `  ${d}\n`).join('')}`);
    if (json) process.stdout.write(`${JSON.stringify({ error: message, details, exitCode: code })}\n`);
    if (code === ExitCode.internal && process.env.SAG_ROLLOUT_DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    return code;
  }
}
