import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/config/index.ts';
import { configTableRow } from '../../src/config/table.ts';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

it('the README starts with the two quick-start commands', () => {
  const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Two nodes'));
  expect(quick).toContain('npm install && npm start');
  expect(quick).toContain('npm install && npm test');
  expect(readme.indexOf('## Quick start')).toBeLessThan(readme.indexOf('## Two nodes'));
});

it('the configuration reference documents every key with its variable and default (regenerate: npx tsx scripts/config-table.ts)', () => {
  for (const k of CONFIG_KEYS) {
    expect(readme, k.path).toContain(configTableRow(k));
  }
});
