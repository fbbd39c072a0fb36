#!/usr/bin/env node
// dcctl, the operator CLI of Direct Connect (built by `node tools/build/build.mjs tools/dcctl`).
require('../dist/main.cjs');
