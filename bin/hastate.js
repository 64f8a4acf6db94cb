#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` has produced dist/ (less CPU and memory: no
// TypeScript loader in the process), and the TypeScript sources through tsx otherwise.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
