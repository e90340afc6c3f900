#!/usr/bin/env node
'use strict';
// The sag-rollout CLI: runs the compiled program (npm install builds it through `prepare`).
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(
    'sag-rollout: the CLI is not built yet: run `npm run build` (npm install does it through `prepare`)\n',
  );
  process.exit(1);
}
// Exits once stdout and stderr have handed everything to the OS: `process.exit` drops what a pipe
// has not taken yet, which would cut a large `--json` document or report piped to another program.
function exitAfterFlush(code) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

require(entry)
  .main(process.argv)
  .then(
    (code) => exitAfterFlush(code),
    (err) => {
      process.stderr.write(`sag-rollout: ${err && err.message ? err.message : String(err)}\n`);
      exitAfterFlush(1);
    },
  );
