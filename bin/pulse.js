#!/usr/bin/env node
// The `pulse` command: runs the compiled CLI (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('pulse: the compiled code is missing (dist/). Run `npm install` or `npm run build` first.');
  process.exit(1);
}
await import(entry.href);
