/**
 * The simulator in a process of its own, so its CPU shows separately from the worker's.
 *
 *   node --import tsx bench/lib/simulator-process.ts <devices> <seed> <downloadSeconds> <upgradeSeconds>
 *
 * Prints one JSON line `{endpoint, accessKeyId, accessKeySecret}` on stdout when it listens, and
 * runs until SIGTERM or SIGINT.
 */
import { startSimulator } from '../../src/simulator';

async function main(): Promise<void> {
  const [devices, seed, downloadSeconds, upgradeSeconds] = process.argv.slice(2).map(Number);
  const sim = await startSimulator({
    generate: {
      devices: devices ?? 1000,
      seed: seed ?? 1,
      simulation: { downloadSeconds: downloadSeconds ?? 0, upgradeSeconds: upgradeSeconds ?? 0.05 },
    },
    requestLogSize: 1000,
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
