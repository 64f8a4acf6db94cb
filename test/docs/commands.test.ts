/**
 * Every command, script, file path, package import and link shown in README.md and docs/*.md
 * refers to something that exists: `npm run X` to a script in package.json, `hastate X` to a
 * subcommand of the CLI, a repository path to a file or folder, an import from 'hastate' to an
 * export of the package, a link to a page (and heading). Pages added to docs/ later are checked
 * the same way, without a change here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingAnchor, MarkdownError, pageRefs, parseMarkdown, shellCommands, type Ref, type RepoFacts } from './markdown-refs.ts';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; exports: Record<string, unknown> };

/** Names in .gitignore that are plain top-level names (no glob, no inner slash). */
function ignoredNames(): Set<string> {
  const names = new Set(['.git']);
  for (const raw of readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')) {
    const line = raw.trim().replace(/^\//, '').replace(/\/$/, '');
    if (line !== '' && !line.startsWith('#') && !/[*?[\]/!]/.test(line)) names.add(line);
  }
  return names;
}

const ignored = ignoredNames();
const facts: RepoFacts = { topLevel: new Set(readdirSync(ROOT).filter((n) => !ignored.has(n))) };

/** Subcommands of the hastate CLI, read from its dispatch. */
const subcommands = new Set([...readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8').matchAll(/case '([a-z][a-z-]*)':/g)].map((m) => m[1]!));

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md')).map((n) => `docs/${n}`)];
const text = (page: string) => readFileSync(join(ROOT, page), 'utf8');
const anchors = new Map<string, Set<string>>();
function anchorsOf(page: string): Set<string> {
  let found = anchors.get(page);
  if (!found) {
    found = new Set(parseMarkdown(text(page), page).headings.map((h) => headingAnchor(h.text)));
    anchors.set(page, found);
  }
  return found;
}

/** The source module behind an export of the package (a dist path maps back to its source). */
function exportSource(subpath: string): string | null {
  let target = pkg.exports[subpath];
  while (target !== null && typeof target === 'object') {
    const conditions = target as Record<string, unknown>;
    target = conditions['import'] ?? conditions['default'] ?? conditions['types'];
  }
  if (typeof target !== 'string') return null;
  const dist = /^\.\/dist\/(.*)\.(?:d\.ts|js)$/.exec(target);
  return join(ROOT, dist ? `${dist[1]}.ts` : target);
}

async function problem(page: string, ref: Ref): Promise<string | null> {
  switch (ref.kind) {
    case 'npm-script':
      return ref.value in pkg.scripts ? null : `npm script "${ref.value}" is not in package.json`;
    case 'cli':
      return subcommands.has(ref.value) ? null : `hastate has no subcommand "${ref.value}" (src/cli/main.ts)`;
    case 'path':
      return existsSync(join(ROOT, ref.value)) ? null : `${ref.value} does not exist`;
    case 'link': {
      const [path, anchor] = ref.value.split('#') as [string, string | undefined];
      const target = path === '' ? page : relative(ROOT, join(ROOT, dirname(page), decodeURIComponent(path)));
      if (!existsSync(join(ROOT, target))) return `link target ${ref.value} (${target}) does not exist`;
      if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(target).has(anchor)) return `link ${ref.value}: ${target} has no heading #${anchor}`;
      return null;
    }
    case 'import': {
      const [specifier, name] = ref.value.split(' ') as [string, string | undefined];
      const subpath = specifier === 'hastate' ? '.' : `./${specifier.slice('hastate/'.length)}`;
      if (!(subpath in pkg.exports)) return `'${specifier}' is not exported by package.json ("${subpath}")`;
      if (name === undefined) return null;
      const source = exportSource(subpath);
      if (source === null || !existsSync(source)) return `cannot find the source of '${specifier}' to check ${name}`;
      const mod = (await import(source)) as Record<string, unknown>;
      const declared = new RegExp(`export[^;]*\\b${name}\\b`).test(readFileSync(source, 'utf8'));
      return name in mod || declared ? null : `'${specifier}' has no export ${name}`;
    }
  }
}

describe('the documentation', () => {
  const all = pages.map((page) => ({ page, refs: pageRefs(text(page), page, facts) }));

  it('refers only to scripts, subcommands, files, exports and pages that exist', async () => {
    const problems: string[] = [];
    for (const { page, refs } of all) {
      for (const ref of refs) {
        const p = await problem(page, ref);
        if (p !== null) problems.push(`${page}:${ref.line}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('is actually read by the parser (each kind of reference is found in numbers)', () => {
    const count = (kind: Ref['kind']) => all.reduce((n, { refs }) => n + refs.filter((r) => r.kind === kind).length, 0);
    // Lower bounds well under today's counts: a parser that silently stops finding things fails here.
    expect(count('npm-script')).toBeGreaterThanOrEqual(15);
    expect(count('cli')).toBeGreaterThanOrEqual(10);
    expect(count('path')).toBeGreaterThanOrEqual(60);
    expect(count('link')).toBeGreaterThanOrEqual(40);
    expect(count('import')).toBeGreaterThanOrEqual(8);
    // Including the README's quick start and the docs index.
    const readme = all.find((p) => p.page === 'README.md')!.refs;
    expect(readme).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'npm-script', value: 'start' }), expect.objectContaining({ kind: 'npm-script', value: 'test' })]));
    expect(all.find((p) => p.page === 'docs/README.md')!.refs.filter((r) => r.kind === 'link').length).toBeGreaterThanOrEqual(10);
  });
});

describe('the markdown reference parser', () => {
  const fixture = [
    '# Title with `code`', // 1
    '', // 2
    'Run `npm run nope` or `hastate frobnicate --x`, see [a](missing.md#x) and `src/nowhere.ts`.', // 3
    'A span over', // 4
    'lines: `npx tsx scripts/demo.ts', // 5
    'examples/node-a.yaml` and ``a `tick` inside``.', // 6
    '', // 7
    '```sh', // 8
    'npm ci && sudo -u hastate npm run --silent build   # comment: npm run ignored', // 9
    'HASTATE_X=1 npx hastate status \\', // 10
    '  --config examples/node-b.yaml', // 11
    "echo 'src/quoted.ts' | cat /etc/passwd https://x.org/src/a dist/x.js test/*.ts", // 12
    '```', // 13
    '', // 14
    '```ts', // 15
    "import { HaNode, type NodeOptions } from 'hastate';", // 16
    "import { Simulation as Sim } from 'hastate/testing';", // 17
    "import { readFileSync } from 'node:fs';", // 18
    '```', // 19
    '', // 20
    '```yaml', // 21
    'notify: {primary: npm run not-shell}', // 22
    '```', // 23
  ].join('\n');

  it('finds every reference of every kind, with its line', () => {
    const refs = pageRefs(fixture, 'fixture.md', { topLevel: new Set(['src', 'scripts', 'examples', 'test']) });
    expect(refs.map((r) => `${r.line} ${r.kind} ${r.value}`).sort()).toEqual(
      [
        '3 npm-script nope',
        '3 cli frobnicate',
        '3 path src/nowhere.ts',
        '3 link missing.md#x',
        '5 path scripts/demo.ts',
        '5 path examples/node-a.yaml',
        '9 npm-script build',
        '10 cli status',
        '10 path examples/node-b.yaml',
        '12 path src/quoted.ts',
        '16 import hastate',
        '16 import hastate HaNode',
        '17 import hastate/testing',
        '17 import hastate/testing Simulation',
      ].sort(),
    );
  });

  it('keeps code spans with backticks inside, and headings for anchors', () => {
    const parts = parseMarkdown(fixture, 'fixture.md');
    expect(parts.inline.map((s) => s.text)).toContain('a `tick` inside');
    expect(parts.headings.map((h) => headingAnchor(h.text))).toEqual(['title-with-code']);
    expect(headingAnchor('Planned and unplanned switch')).toBe('planned-and-unplanned-switch');
    expect(headingAnchor('Security: authenticated heartbeats')).toBe('security-authenticated-heartbeats');
  });

  it('splits shell commands on operators outside quotes, and drops comments', () => {
    expect(shellCommands("a 'b && c' && d # e\nf | g; h").map((c) => c.words)).toEqual([['a', 'b && c'], ['d'], ['f'], ['g'], ['h']]);
  });

  it('names the line of a code block that never closes', () => {
    expect(() => parseMarkdown('text\n\n```sh\nnpm test\n', 'x.md')).toThrow(new MarkdownError('x.md:3: code block opened with ``` is never closed'));
  });
});
