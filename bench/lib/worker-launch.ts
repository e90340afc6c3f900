/**
 * What the benchmark and the soak need to start worker processes: the workflow bundle, built once
 * and shared, and the command line of bench/lib/worker-process.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/** Bundles workflows/ into `<dir>/workflow-bundle.js` and returns its path. */
export async function bundleWorkflows(dir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../workflows/index.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  return bundlePath;
}

/**
 * Node arguments that run the worker process: the compiled tree (`npm run build`) as in
 * production, so its memory is not inflated by on-the-fly TypeScript compilation; the sources
 * through tsx only when dist/ is absent.
 */
export function workerEntry(): string[] {
  const compiled = path.resolve(__dirname, '../../dist/bench/lib/worker-process.js');
  return existsSync(compiled)
    ? [compiled]
    : ['--import', 'tsx', path.resolve(__dirname, 'worker-process.ts')];
}
