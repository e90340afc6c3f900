#!/usr/bin/env node
// Provides the pinned Temporal CLI and time-skipping test server under .tools/ (idempotent) and
// prints the CLI's path on stdout. Runs from the compiled tree: `npm install` builds it first.
'use strict';
const { resolveTemporalCli, resolveTestServer } = require('../dist/src/temporal/tooling.js');

const started = Date.now();
const cli = resolveTemporalCli({ install: true });
if (!cli.path) {
  process.stderr.write('temporal: no CLI could be installed; the SDK will try to download one at run time\n');
  process.exit(1);
}
process.stderr.write(
  `temporal: ${cli.version ?? 'unknown version'} from ${cli.source} (${cli.path}) in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
);
const ts = resolveTestServer();
process.stderr.write(`temporal: time-skipping test server ${ts ?? 'not installed'}\n`);
process.stdout.write(`${cli.path}\n`);
