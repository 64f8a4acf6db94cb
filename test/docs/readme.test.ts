import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/config/index.ts';
import { configTableRow } from '../../src/config/table.ts';
import { REFERENCE_KEYS } from '../../src/reference/config.ts';

const ROOT = join(import.meta.dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const configurationDoc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');

it('the README starts with the two quick-start commands', () => {
  const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Two nodes'));
  expect(quick).toContain('npm install && npm start');
  expect(quick).toContain('npm install && npm test');
  expect(readme.indexOf('## Quick start')).toBeLessThan(readme.indexOf('## Two nodes'));
});

it('the README stays a five-minute read (at most 15 KB; the rest belongs in docs/)', () => {
  expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(15 * 1024);
});

it("the README's service example is examples/hello-service.ts as it is (the file type-checks and a test runs it)", () => {
  const file = readFileSync(join(ROOT, 'examples/hello-service.ts'), 'utf8');
  // The file imports the sources; a user imports the package. Its header comment is not shown.
  const shown = file.slice(file.indexOf('import ')).replace("'../src/index.ts'", "'hastate'").trimEnd();
  expect(readme).toContain('```ts\n' + shown + '\n```');
});

it('the configuration reference documents every key with its variable and default (regenerate: npx tsx scripts/config-table.ts --write)', () => {
  // hastate's keys above the reference application's section, the application's (its own declaration) in it.
  const at = configurationDoc.indexOf('\n## Reference application keys\n');
  expect(at).toBeGreaterThan(0);
  const hastatePart = configurationDoc.slice(0, at);
  const referencePart = configurationDoc.slice(at);
  for (const k of CONFIG_KEYS) {
    expect(hastatePart, k.path).toContain(configTableRow(k));
  }
  expect(REFERENCE_KEYS.table.length).toBeGreaterThan(0);
  for (const k of REFERENCE_KEYS.table) {
    expect(referencePart, k.path).toContain(configTableRow(k));
  }
  expect(hastatePart).not.toContain('| `reference.');
});
