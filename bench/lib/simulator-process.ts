/**
 * The simulator in a process of its own, so its CPU shows separately from the worker's.
 *
 *   node --import tsx bench/lib/simulator-process.ts <devices> <seed> <downloadSeconds> <upgradeSeconds>
 *
 * The night-window benchmark sets, in the environment: `SIM_FLEET_FILE` (a fleet file to serve
 * instead of a generated fleet), `SIM_TIME_SCALE` (simulated seconds per real second) and
 * `SIM_REQUEST_LOG` (entries the request log keeps).
 *
 * Prints one JSON line `{endpoint, accessKeyId, accessKeySecret}` on stdout when it listens, and
 * runs until SIGTERM or SIGINT.
 */
import { loadFleetFile, startSimulator } from '../../src/simulator';

async function main(): Promise<void> {
  const [devices, seed, downloadSeconds, upgradeSeconds] = process.argv.slice(2).map(Number);
  const fleetFile = process.env.SIM_FLEET_FILE;
  const sim = await startSimulator({
    ...(fleetFile
      ? { fleet: await loadFleetFile(fleetFile) }
      : {
          generate: {
            devices: devices ?? 1000,
            seed: seed ?? 1,
            simulation: { downloadSeconds: downloadSeconds ?? 0, upgradeSeconds: upgradeSeconds ?? 0.05 },
          },
        }),
    requestLogSize: Number(process.env.SIM_REQUEST_LOG ?? 1000),
    timeScale: Number(process.env.SIM_TIME_SCALE ?? 1),
  });
  process.stdout.write(
    `${JSON.stringify({ endpoint: sim.endpoint, accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret })}\n`,
  );
  const stop = () => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`simulator: ${String(err)}\n`);
  process.exit(1);
});
