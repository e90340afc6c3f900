'use strict';
// Removes dist/ before a build: tsc never deletes the output of a source file that was moved or
// removed, and Node would still resolve `require('../config/policy')` to a stale `policy.js`
// before the `policy/index.js` that replaced it.
const fs = require('node:fs');
const path = require('node:path');

fs.rmSync(path.join(__dirname, '..', 'dist'), { recursive: true, force: true });
