/**
 * What a node loads at start: a module that only one backend or feature needs is imported
 * where it is used (`await import(...)`), so that nodes which do not use it do not pay its
 * memory and start-up time (docs/benchmarks.md, "Idle cost"). This follows the static imports
 * from the CLI's entry and the package's, and fails on any path that reaches such a module.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Loaded only on demand: ioredis (Redis backend only). */
const LAZY = ['ioredis'];

/** Value imports and re-exports (not `import type` / `export type`), as written in the file. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1]!);
  return out;
}

/** Every package reached from `entry` through static imports, with the chain that reaches it. */
function reachable(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec), [...chain, spec]);
      else if (!packages.has(spec)) packages.set(spec, [...chain, spec]);
    }
  };
  walk(join(ROOT, entry), [entry]);
  return packages;
}

describe('lazy imports', () => {
  it.each(['src/cli/run-command.ts', 'src/index.ts'])('%s reaches none of the on-demand modules through static imports', (entry) => {
    const packages = reachable(entry);
    // The walk itself works: the node's own dependencies are found.
    expect([...packages.keys()]).toEqual(expect.arrayContaining(['xstate', 'pino']));
    for (const name of LAZY) expect(packages.get(name), `${name} is imported statically via ${packages.get(name)?.join(' -> ')}`).toBeUndefined();
  });

  it('the CLI entry loads the node only for `run`: farewell, validate and status start without xstate, pino or the backends', () => {
    const packages = reachable('src/cli/main.ts');
    expect([...packages.keys()]).toContain('yaml');
    for (const name of ['xstate', 'pino', 'prom-client', 'ioredis']) expect(packages.get(name), `${name} via ${packages.get(name)?.join(' -> ')}`).toBeUndefined();
  });

  it('the Redis backend still imports ioredis where it connects', () => {
    expect(readFileSync(join(ROOT, 'src/backends/redis.ts'), 'utf8')).toMatch(/import\('ioredis'\)/);
  });
});
