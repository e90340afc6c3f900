/** Runs the CLI from source (`node --import tsx test/reliability/cli-main.ts <args>`), for tests. */
import { main } from '../../src/cli/main';

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`sag-rollout: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
