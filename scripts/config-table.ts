/**
 * Prints the configuration reference table from the key table itself; `--write` replaces the
 * table in docs/configuration.md (the configuration reference) in place.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS } from '../src/config/index.ts';
import { configTableRow } from '../src/config/table.ts';

const TARGET = join(import.meta.dirname, '../docs/configuration.md');
const HEADER = '| key | environment variable | type | default | meaning |';
const rows = CONFIG_KEYS.map(configTableRow);
const table = [HEADER, '|---|---|---|---|---|', ...rows];

if (process.argv.includes('--write')) {
  const lines = readFileSync(TARGET, 'utf8').split('\n');
  const start = lines.indexOf(HEADER);
  if (start < 0) throw new Error(`${TARGET} has no line ${HEADER}`);
  let end = start;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  lines.splice(start, end - start, ...table);
  writeFileSync(TARGET, lines.join('\n'));
} else {
  process.stdout.write(table.join('\n') + '\n');
}
