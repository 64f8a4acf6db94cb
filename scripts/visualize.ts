/** Regenerates visualizations/ from the machine definitions. Usage: npm run visualize */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAll } from '../src/visualize/index.ts';

const dir = join(import.meta.dirname, '../visualizations');
for (const [name, text] of await generateAll()) {
  const path = join(dir, name);
  let old = '';
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    // new file
  }
  if (old === text) continue;
  writeFileSync(path, text);
  console.log(`wrote visualizations/${name}`);
}
