/**
 * Prints the configuration reference tables from the key declarations themselves; `--write`
 * replaces them in docs/configuration.md (the configuration reference) in place: hastate's keys
 * (src/config/schema.ts) in the first table, the reference application's (src/reference/config.ts,
 * declared with defineConfigKeys like any application's) in the table under REFERENCE_HEADING.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS } from '../src/config/index.ts';
import { configTableRow } from '../src/config/table.ts';
import { REFERENCE_KEYS } from '../src/reference/config.ts';

const TARGET = join(import.meta.dirname, '../docs/configuration.md');
const HEADER = '| key | environment variable | type | default | meaning |';
const REFERENCE_HEADING = '## Reference application keys';
const tableOf = (keys: typeof CONFIG_KEYS) => [HEADER, '|---|---|---|---|---|', ...keys.map(configTableRow)];

/** Each table goes at the first table header after its heading (null = the top of the page). */
const TABLES: { heading: string | null; lines: string[] }[] = [
  { heading: null, lines: tableOf(CONFIG_KEYS) },
  { heading: REFERENCE_HEADING, lines: tableOf(REFERENCE_KEYS.table) },
];

function replaceTables(text: string): string {
  const lines = text.split('\n');
  for (const { heading, lines: table } of TABLES) {
    const from = heading === null ? 0 : lines.indexOf(heading);
    if (from < 0) throw new Error(`${TARGET} has no heading ${heading}`);
    const start = lines.indexOf(HEADER, from);
    if (start < 0) throw new Error(`${TARGET} has no line ${HEADER} after ${heading ?? 'its top'}`);
    let end = start;
    while (end < lines.length && lines[end]!.startsWith('|')) end++;
    lines.splice(start, end - start, ...table);
  }
  return lines.join('\n');
}

if (process.argv.includes('--write')) {
  writeFileSync(TARGET, replaceTables(readFileSync(TARGET, 'utf8')));
} else {
  process.stdout.write(TABLES.map((t) => [...(t.heading === null ? [] : [t.heading, '']), ...t.lines].join('\n')).join('\n\n') + '\n');
}
