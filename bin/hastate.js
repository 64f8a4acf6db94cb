#!/usr/bin/env node
// The `hastate` command: the compiled CLI, run with plain node (no TypeScript loader).
// dist/ is built by `npm run build`, which `prepare` runs on `npm install` in a clone, on
// `npm pack` and on installs from git. In a clone, `npm run hastate -- ...` runs the sources.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write(`hastate: the compiled CLI ${fileURLToPath(compiled)} is missing; run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(1);
}
await import(compiled.href);
