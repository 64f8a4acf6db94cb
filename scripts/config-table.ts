/** Prints the configuration reference table for the README from the key table itself. */
import { CONFIG_KEYS } from '../src/config/index.ts';

const rows = CONFIG_KEYS.map((k) => `| \`${k.path}\` | \`${k.env}\` | ${k.type} | ${k.default} | ${k.doc} |`);
process.stdout.write(['| key | environment variable | type | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n') + '\n');
