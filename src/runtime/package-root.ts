/**
 * The package's root folder (where package.json and visualizations/ live), found by walking up
 * from this module: two levels up when run from src/ through tsx, three from a compiled dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { internalBug } from '../assert.ts';

/** dist/src/runtime -> dist -> root: never more than this many levels. */
const MAX_LEVELS = 4;

interface PackageJson {
  name?: string;
  version: string;
}

function findRoot(): { root: string; pkg: PackageJson } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i <= MAX_LEVELS; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as PackageJson;
      if (pkg.name === 'hastate') return { root: dir, pkg };
    }
    dir = dirname(dir);
  }
  throw internalBug(`hastate: no package.json named hastate within ${MAX_LEVELS} folders above ${fileURLToPath(import.meta.url)}`);
}

const found = findRoot();
export const PACKAGE_ROOT: string = found.root;
/** The package's package.json, read once. */
export const PACKAGE_JSON: Readonly<PackageJson> = found.pkg;
