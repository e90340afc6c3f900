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
require(entry)
  .main(process.argv)
  .then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`sag-rollout: ${err && err.message ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
