import type { Command } from 'commander';
import { action, connect, defaultOperator, disconnect, globalsOf } from '../context';
import { ExitCode, type ExitCodeValue } from '../errors';
import { wholeNumber } from '../inputs';
import { info, out } from '../output';

interface DashboardFlags {
  port: number;
  host: string;
  token?: string;
  temporalUi: string;
  operator: string;
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
    .action(action(serveDashboard));
}

async function serveDashboard(o: DashboardFlags, cmd: Command): Promise<ExitCodeValue> {
  // Loaded on demand: the other commands need nothing of the web server.
  const { startDashboard } = await import('../../dashboard/server.js');
  const { client } = await connect(globalsOf(cmd));
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
  return ExitCode.ok;
}
