import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWithEsbuild, PREBUILT, publicDir } from './bundle';

/** Writes the prebuilt front-end bundle used where esbuild is not installed. */
async function main(): Promise<void> {
  const js = await bundleWithEsbuild();
  if (js === undefined) throw new Error('esbuild is not installed');
  const file = path.join(publicDir(), PREBUILT);
  writeFileSync(file, js);
  process.stdout.write(`${file}: ${js.length} bytes\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
