/**
 * Prints the configuration reference table for the README from the key table itself;
 * `--write` replaces the table in README.md in place.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_KEYS } from '../src/config/index.ts';
import { configTableRow } from '../src/config/table.ts';

const HEADER = '| key | environment variable | type | default | meaning |';
const rows = CONFIG_KEYS.map(configTableRow);
const table = [HEADER, '|---|---|---|---|---|', ...rows];

if (process.argv.includes('--write')) {
  const lines = readFileSync('README.md', 'utf8').split('\n');
  const start = lines.indexOf(HEADER);
  if (start < 0) throw new Error(`README.md has no line ${HEADER}`);
  let end = start;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  lines.splice(start, end - start, ...table);
  writeFileSync('README.md', lines.join('\n'));
} else {
  process.stdout.write(table.join('\n') + '\n');
}
