import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { action, connect, defaultOperator, disconnect, globalsOf } from '../context';
import { CliError, ExitCode, type ExitCodeValue } from '../errors';
import { wholeNumber } from '../inputs';
import { info, out } from '../output';

interface DashboardFlags {
  port: number;
  host: string;
  token?: string;
  temporalUi: string;
  operator: string;
  operators?: string;
  trustHeader?: string;
  hashToken?: boolean;
}

/** `dashboard`: serves the web view until SIGINT or SIGTERM. */
export function registerDashboard(program: Command): void {
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
    .option(
      '--operators <file>',
      'per-operator tokens: YAML or JSON, name: "sha256:<hex>" (also SAG_DASHBOARD_OPERATORS); commands go as the token\'s operator',
    )
    .option(
      '--trust-header <name>',
      'the header a trusted single-sign-on proxy names the signed-in user in (also SAG_DASHBOARD_TRUST_HEADER)',
    )
    .option('--hash-token', 'print the operators-file entry of the token read from stdin, and exit')
    .action(action(serveDashboard));
}

async function serveDashboard(o: DashboardFlags, cmd: Command): Promise<ExitCodeValue> {
  // Loaded on demand: the other commands need nothing of the web server.
  const { OperatorsFileError, parseOperators, startDashboard, tokenHash } =
    await import('../../dashboard/server.js');
  if (o.hashToken) {
    const token = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (token.length < 16)
      throw new CliError(
        '--hash-token: the token on stdin must be at least 16 characters',
        ExitCode.badInput,
      );
    out(tokenHash(token));
    return ExitCode.ok;
  }
  const operatorsFile = o.operators ?? (process.env.SAG_DASHBOARD_OPERATORS || undefined);
  let operators: Map<string, string> | undefined;
  if (operatorsFile) {
    let text: string;
    try {
      text = readFileSync(operatorsFile, 'utf8');
    } catch (err) {
      throw new CliError(
        `--operators: cannot read ${operatorsFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        ExitCode.badInput,
      );
    }
    try {
      operators = parseOperators(text);
    } catch (err) {
      if (err instanceof OperatorsFileError)
        throw new CliError(`${operatorsFile}: ${err.message}`, ExitCode.badInput);
      throw err;
    }
  }
  const trustHeader = o.trustHeader ?? (process.env.SAG_DASHBOARD_TRUST_HEADER || undefined);
  const { client } = await connect(globalsOf(cmd));
  const dashboard = await startDashboard({
    ...(operators ? { operators } : {}),
    ...(trustHeader ? { trustHeader } : {}),
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
  return ExitCode.ok;
}
