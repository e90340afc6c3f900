import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe("workflows/ stays inside Temporal's deterministic sandbox", () => {
  it('bundles workflows/index.ts with the SDK bundler', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '../../workflows/index.ts'),
      logger: quiet,
    });
    expect(code).toContain('rolloutWorkflow');
    expect(code).toContain('deviceUpgradeWorkflow');
    // Nothing from the SAG client or pop-core may reach the sandbox.
    expect(code).not.toMatch(/@alicloud\/pop-core|RPCClient/);
  }, 120_000);

  it('refuses a workflow module that imports a Node built-in', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    const file = path.join(dir, 'bad.ts');
    writeFileSync(
      file,
      "import { readFileSync } from 'node:fs';\nexport async function badWorkflow(): Promise<string> { return readFileSync('/etc/hostname', 'utf8'); }\n",
    );
    await expect(bundleWorkflowCode({ workflowsPath: file, logger: quiet })).rejects.toThrow(
      /Webpack finished with errors/,
    );
  }, 120_000);
});
