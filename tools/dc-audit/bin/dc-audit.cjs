#!/usr/bin/env node
// Launcher for `npx dc-audit`: runs the bundled CLI (build it with `node tools/build/build.mjs tools/dc-audit`).
require('../dist/main.cjs');
