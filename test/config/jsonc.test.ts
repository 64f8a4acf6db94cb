import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigProblem, type ConfigProblem } from '../../src/errors.ts';
import { loadConfig, parseConfigDocument, parseConfigText, ROLES, type HastateConfig } from '../../src/config/index.ts';
import { blankJsonComments } from '../../src/config/jsonc.ts';
import { fcParams } from '../properties/arbitraries.ts';
import { DEFAULTS, fakeInterfaces } from './helpers.ts';
import { REFERENCE_KEYS, type ReferenceConfig } from '../../src/reference/config.ts';

// With the reference application's keys, as the CLI loads them (they are not hastate's own).
const opts = { env: {}, networkInterfaces: fakeInterfaces, appKeys: REFERENCE_KEYS };
type Config = HastateConfig & ReferenceConfig;
const lines = (...ls: string[]) => ls.join('\n') + '\n';

function outcome(text: string, source: string, section?: string): Config | ConfigProblem[] {
  try {
    return parseConfigText(text, source, { ...opts, ...(section === undefined ? {} : { section, appSections: '*' as const }) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...err.problems];
  }
}

function problems(text: string, source = 'app.json'): string[] {
  const r = outcome(text, source);
  if (!Array.isArray(r)) throw new Error('expected a ConfigError');
  return r.map(formatConfigProblem);
}

describe('JSON files with comments (JSONC)', () => {
  it('the seed\'s example file loads: // comments after values, JSON layout', () => {
    const seed = lines(
      '{',
      '  "ha": {',
      '    "enabled": true,',
      '    "multicast_group": "224.100.200.16",',
      '    "heartbeat": {',
      '      "port": 9999,',
      '      "interval_seconds": 3,',
      '      "timeout_seconds": 9',
      '    },',
      '    "priority": 0,  // 优先级（0表示使用IP地址比较，数值越大优先级越高）',
      '    "role": "auto"  // auto | primary | standby（auto表示通过组播协商）',
      '  }',
      '}',
    );
    expect(outcome(seed, 'config.json')).toEqual(DEFAULTS);
  });

  it('line and block comments anywhere between tokens; comment markers inside strings stay text', () => {
    const c = outcome(
      lines(
        '// leading comment "ha": {',
        '/* block',
        '   over lines, with "quotes" and // inside */ {',
        '  "ha": { "node_id": "a//b/*c*/d", /* "priority": 9 */ "priority": 4 },',
        '  "reference": { "api_url": "http://x.example//p" }, // "log": 1',
        '  "log" /*k*/ : /*v*/ { "level": "warn" }',
        '}',
        '// trailing comment without newline at the end',
      ).trimEnd(),
      'app.jsonc',
    ) as Config;
    expect(c.ha).toMatchObject({ nodeId: 'a//b/*c*/d', priority: 4 });
    expect(c.reference.apiUrl).toBe('http://x.example//p');
    expect(c.log.level).toBe('warn');
  });

  it('escaped quotes and backslashes end strings where JSON says', () => {
    const c = outcome('{"ha": {"node_id": "q\\"//x\\\\"} // c\n}', 'a.json') as Config;
    expect(c.ha.nodeId).toBe('q"//x\\');
  });

  it('YAML\'s single-quoted strings, which the parser also takes, keep their contents too', () => {
    expect((outcome("{'ha': {'node_id': 'it''s //here'}} // c", 'a.json') as Config).ha.nodeId).toBe("it's //here");
  });

  it('trailing commas are accepted', () => {
    expect((outcome('{"ha": {"priority": 2,}, "log": {"level": "error",},}', 'a.json') as Config).ha.priority).toBe(2);
  });

  it('positions stay those of the file: comments before a problem do not shift its line or column', () => {
    expect(problems(lines(
      '{ /* one',
      '     two */ "ha": { // three',
      '    /* four */ "prority": 3, "role": /* x */ "master"',
      '  }',
      '}',
    ))).toEqual([
      'app.json:3:16: ha.prority: unknown key; did you mean ha.priority?',
      'app.json:3:46: ha.role: must be one of: auto, primary, standby; found string "master"',
    ]);
  });

  it('a comment that never closes is one problem at its start, and nothing else is reported', () => {
    expect(problems(lines('{', '  "ha": {"priority": "x"},', '  /* unfinished', '  "log": {}', '}'))).toEqual([
      'app.json:3:3: (json): comment /* never closes (no */ before the end of the file)',
    ]);
  });

  it('JSON syntax errors are reported as JSON, at the right place after comments', () => {
    expect(problems('// c\n{"ha": {"priority": 1,, }}')).toEqual([expect.stringMatching(/^app\.json:2:\d+: \(json\): JSON syntax error: /)]);
  });

  it('YAML files are not touched: // is text in YAML', () => {
    const c = outcome('reference:\n  api_url: http://x.example//p\nha: {node_id: a/*b*/}\n', 'n.yaml') as Config;
    expect(c.reference.apiUrl).toBe('http://x.example//p');
    expect(c.ha.nodeId).toBe('a/*b*/');
  });

  it('loadConfig reads a .json file with comments', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hastate-jsonc-')), 'app.json');
    writeFileSync(file, '{\n  // priority of this node\n  "ha": { "priority": 8 }\n}\n');
    expect(loadConfig({ file, ...opts }).ha.priority).toBe(8);
  });

  it('blanking keeps every offset: same length, newlines where they were', () => {
    const text = 'a/*x\r\ny*/b//z\r\nc"//"\rd';
    const r = blankJsonComments(text);
    expect(r).toEqual({ ok: true, text: 'a   \r\n   b   \r\nc"//" d' });
  });
});

// ---------------------------------------------------------------- property

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The JSON tokens of a value, in order (no whitespace). */
function tokens(v: Json): string[] {
  if (Array.isArray(v)) return ['[', ...v.flatMap((x, i) => (i === 0 ? tokens(x) : [',', ...tokens(x)])), ']'];
  if (v !== null && typeof v === 'object') {
    return ['{', ...Object.entries(v).flatMap(([k, x], i) => [...(i === 0 ? [] : [',']), JSON.stringify(k), ':', ...tokens(x)]), '}'];
  }
  return [JSON.stringify(v)];
}

const tricky = fc.constantFrom('a', ' ', '"', '/', '*', '\\', '{', '}', ':', ',', 'é', '//', '/*', '*/', '#', "'", '\t', 'ha');
const commentText = fc.array(tricky, { maxLength: 8 }).map((a) => a.join(''));
/** Comment text that cannot close a block comment early. */
const noClose = (t: string): string => t.replace(/\*\//g, '* /');
const filler = fc
  .array(
    fc.oneof(
      fc.constantFrom(' ', '  ', '\t', '\n', '\r\n', '\r'),
      commentText.map((t) => `//${t.replace(/[\r\n]/g, '')}\n`),
      commentText.map((t) => `/*${noClose(t)}*/`),
      commentText.map((t) => `/*${noClose(t)}\n${noClose(t)}*/`),
    ),
    { maxLength: 3 },
  )
  .map((a) => a.join(''));

const str = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('http://x//y', 'a/*b*/c', '// not a comment', '"', '\\', '*/'));
const opt = (r: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Json> => fc.record(r, { requiredKeys: [] }) as fc.Arbitrary<Json>;
/** Config-like values: mostly hastate's keys with good or bad values, some typos and junk. */
const configLike: fc.Arbitrary<Json> = opt({
  ha: opt({
    priority: fc.oneof(fc.integer(), str),
    node_id: str,
    role: fc.constantFrom(...ROLES, 'master'),
    prority: fc.integer(),
    heartbeat: opt({ port: fc.integer({ min: 0, max: 70_000 }), interval_seconds: fc.double({ min: 0.001, max: 10, noNaN: true }), timeout_seconds: fc.constantFrom(20, 0.5) }),
  }),
  reference: opt({ api_url: fc.oneof(fc.constantFrom('http://127.0.0.1:9400', 'https://h.example/p//q'), str) }),
  log: fc.oneof(opt({ level: fc.constantFrom('info', 'debug', 'loud') }), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>),
}) as fc.Arbitrary<Json>;

/** Offset of a 1-based line and column (columns count UTF-16 units; lines end at \n). */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = text.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

/** Index of the token starting at `offset`, given where each token starts. */
const tokenAt = (starts: number[], offset: number): number => starts.indexOf(offset);

describe('JSONC property', () => {
  it('inserting comments and whitespace between JSON tokens never changes the loaded config, the data, nor where problems point', () => {
    const seen = { valid: 0, rejected: 0 };
    fc.assert(
      fc.property(
        configLike,
        fc.option(fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>, { nil: undefined }),
        fc.infiniteStream(filler),
        fc.boolean(),
        (value, app, fillers, endWithLineComment) => {
          // With an application value, hastate's block is a section of the application's document.
          const doc: Json = app === undefined ? value : { app, hastate: value };
          const section = app === undefined ? undefined : 'hastate';
          const toks = tokens(doc);
          const plainStarts: number[] = [];
          let plain = '';
          for (const t of toks) {
            plainStarts.push(plain.length);
            plain += t;
          }
          const fillIter = fillers[Symbol.iterator]();
          const commentedStarts: number[] = [];
          let commented = fillIter.next().value as string;
          for (const t of toks) {
            commentedStarts.push(commented.length);
            commented += t + (fillIter.next().value as string);
          }
          if (endWithLineComment) commented += '// the end';

          // As plain data (what an application reads for its own parts) too.
          expect(parseConfigDocument(commented, 'p.jsonc')).toEqual(JSON.parse(plain));
          const expected = outcome(plain, 'p.json', section);
          const actual = outcome(commented, 'p.jsonc', section);
          if (!Array.isArray(expected)) {
            seen.valid++;
            expect(actual).toEqual(expected);
            return;
          }
          seen.rejected++;
          expect(Array.isArray(actual)).toBe(true);
          const got = actual as ConfigProblem[];
          expect(got.map((p) => `${p.key}: ${p.message}`)).toEqual(expected.map((p) => `${p.key}: ${p.message}`));
          expected.forEach((p, i) => {
            const q = got[i]!;
            expect(q.line === undefined).toBe(p.line === undefined);
            if (p.line === undefined) return;
            const want = tokenAt(plainStarts, offsetOf(plain, p.line, p.column!));
            expect(want).toBeGreaterThanOrEqual(0);
            expect(tokenAt(commentedStarts, offsetOf(commented, q.line!, q.column!))).toBe(want);
          });
        },
      ),
      { ...fcParams(), numRuns: 1000 },
    );
    expect(seen.valid).toBeGreaterThan(50);
    expect(seen.rejected).toBeGreaterThan(50);
  });
});

describe('JSONC robustness', () => {
  const soup = fc
    .array(fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '//', '/*', '*/', '*', '/', '\n', '\r', ' ', '"ha"', '"priority"', '1', 'x', '#', "'"), { maxLength: 60 })
    .map((ts) => ts.join(''));
  it('any text in a .jsonc file, with or without a section: a ConfigError or a configuration, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(soup, fc.string({ unit: 'binary', maxLength: 100 })), fc.boolean(), (text, withSection) => {
        const r = outcome(text, 'soup.jsonc', withSection ? 'hastate' : undefined);
        if (Array.isArray(r)) {
          expect(r.length).toBeGreaterThan(0);
          for (const p of r) if (p.line !== undefined) expect(p.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { ...fcParams(), numRuns: 1000 },
    );
  });
});
