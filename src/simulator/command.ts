import { loadFleetFile } from './fleet';
import { DEFAULT_ACCOUNT_ID, randomCredentials, startSimulator, type SimulatorOptions } from './index';

export interface SimulatorCommandOptions {
  port?: number;
  fleet?: string;
  devices?: number;
  seed?: number;
  accessKeyId?: string;
  accessKeySecret?: string;
  host?: string;
}

/**
 * `sag-rollout simulator`: starts the simulator and runs until SIGINT or SIGTERM.
 * Prints `SAG_ENDPOINT=…`, `ALIBABA_CLOUD_ACCESS_KEY_ID=…` and `ALIBABA_CLOUD_ACCESS_KEY_SECRET=…`
 * lines on stdout (a shell can eval them); progress goes to stderr. The secret may come from
 * SAG_SIMULATOR_ACCESS_KEY_SECRET so it need not appear in the process list.
 * @throws FleetValidationError for an invalid fleet file; Error for inconsistent options.
 */
export async function runSimulatorCommand(opts: SimulatorCommandOptions): Promise<void> {
  if (opts.fleet && opts.devices !== undefined) throw new Error('give either --fleet or --devices, not both');
  const secret = opts.accessKeySecret ?? process.env.SAG_SIMULATOR_ACCESS_KEY_SECRET;
  if (!!opts.accessKeyId !== !!secret) {
    throw new Error(
      'give both --access-key-id and --access-key-secret (or SAG_SIMULATOR_ACCESS_KEY_SECRET), or neither',
    );
  }
  const creds =
    opts.accessKeyId && secret
      ? { accessKeyId: opts.accessKeyId, accessKeySecret: secret }
      : randomCredentials();
  const options: SimulatorOptions = {
    port: opts.port ?? 0,
    host: opts.host ?? '127.0.0.1',
    credentials: [{ ...creds, accountId: DEFAULT_ACCOUNT_ID }],
  };
  if (opts.fleet) options.fleet = await loadFleetFile(opts.fleet);
  else options.generate = { devices: opts.devices ?? 20, seed: opts.seed ?? 1 };

  const sim = await startSimulator(options);
  const devices = sim.devices();
  process.stdout.write(
    `SAG_ENDPOINT=${sim.endpoint}\nALIBABA_CLOUD_ACCESS_KEY_ID=${sim.accessKeyId}\nALIBABA_CLOUD_ACCESS_KEY_SECRET=${sim.accessKeySecret}\n`,
  );
  process.stderr.write(
    `simulator: smartag 2018-03-13 at ${sim.endpoint} (${new Set(devices.map((d) => d.SmartAGId)).size} instances, ` +
      `${devices.length} devices, account ${sim.accountId}); admin at ${sim.endpoint}/_admin/devices; Ctrl-C stops it\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write(`simulator: ${signal}, stopping\n`);
      sim.stop().then(resolve, (e: unknown) => {
        process.stderr.write(`simulator: error while stopping: ${String(e)}\n`);
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
