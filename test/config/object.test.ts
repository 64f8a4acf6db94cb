import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigProblem } from '../../src/errors.ts';
import { loadConfig, parseConfigText, type LoadOptions } from '../../src/config/index.ts';
import { fcParams } from '../properties/arbitraries.ts';
import { DEFAULTS, fakeInterfaces } from './helpers.ts';
import { REFERENCE_KEYS } from '../../src/reference/config.ts';

// With the reference application's keys, as the CLI loads them (they are not hastate's own).
const base = { env: {}, networkInterfaces: fakeInterfaces, appKeys: REFERENCE_KEYS };
const load = (o: LoadOptions) => loadConfig({ ...base, ...o });

function problemsOf(o: LoadOptions): string[] {
  try {
    load(o);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    for (const p of e.problems) expect(p.line).toBeUndefined();
    return e.problems.map(formatConfigProblem);
  }
  throw new Error('expected a ConfigError');
}

describe('an already-parsed object', () => {
  it('gives the same configuration as the same keys in a file', () => {
    const object = { ha: { priority: 5, heartbeat: { interval_seconds: 0.5, timeout_seconds: 2 } }, log: { level: 'warn' } };
    expect(load({ object })).toEqual(parseConfigText(JSON.stringify(object), 'same.json', base));
    expect(load({ object }).ha).toMatchObject({ priority: 5, heartbeat: { intervalMs: 500, timeoutMs: 2000 } });
    expect(load({ object: {} })).toEqual(DEFAULTS);
    expect(load({ object: null })).toEqual(DEFAULTS);
  });

  it('problems name the key path and the source, with no file position', () => {
    expect(problemsOf({ object: { ha: { prority: 1, role: 'master', heartbeat: 3 } } })).toEqual([
      'object: ha.prority: unknown key; did you mean ha.priority?',
      'object: ha.role: must be one of: auto, primary, standby; found string "master"',
      'object: ha.heartbeat: expected a mapping of ha.heartbeat.* keys, found number 3',
    ]);
    expect(problemsOf({ object: { ha: { priority: '5' } }, source: 'settings.ha' })).toEqual([
      'settings.ha: ha.priority: expected integer, found string "5"',
    ]);
  });

  it('a section of a larger object, with the full path in problems', () => {
    const object = { db: { url: 'x' }, hastate: { ha: { priority: 3 } } };
    expect(load({ object, section: 'hastate' }).ha.priority).toBe(3);
    expect(problemsOf({ object: { hastate: { ha: { priorty: 3 } } }, section: 'hastate' })).toEqual([
      'object: hastate.ha.priorty: unknown key; did you mean hastate.ha.priority?',
    ]);
    expect(problemsOf({ object, section: 'hastat' })).toEqual(['object: (root): section hastat not found; did you mean hastate?']);
    expect(problemsOf({ object: { hastate: 'on' }, section: 'hastate' })).toEqual([
      'object: hastate: expected a mapping of hastate\'s keys (ha, status, log, notify, reference), found string "on"',
    ]);
  });

  it('appSections works as for files', () => {
    expect(load({ object: { db: 1, ha: { priority: 1 } }, appSections: '*' }).ha.priority).toBe(1);
    expect(problemsOf({ object: { db: 1, hq: {} }, appSections: '*' })).toEqual([
      expect.stringMatching(/^object: hq: unknown key; did you mean ha\?/),
    ]);
  });

  it('values that are not plain data are refused, not converted', () => {
    class Settings { priority = 1; }
    expect(problemsOf({ object: { ha: new Settings() } })).toEqual(['object: ha: expected a mapping of ha.* keys, found an object of class Settings (plain objects only)']);
    expect(problemsOf({ object: new Map([['ha', {}]]) })).toEqual(['object: (root): top level must be a mapping (ha, status, log), found an object of class Map (plain objects only)']);
    expect(problemsOf({ object: [{ ha: {} }] })).toEqual(['object: (root): top level must be a mapping (ha, status, log), found a sequence']);
    expect(problemsOf({ object: { ha: { priority: 10n, preempt: 'yes', node_id: ['a'] } } })).toEqual([
      'object: ha.priority: expected integer, found integer 10',
      'object: ha.preempt: expected boolean (true or false), found string "yes"',
      'object: ha.node_id: expected string, found a sequence',
    ]);
  });

  it('a key set to undefined counts as absent (as in JSON); null is a value', () => {
    expect(load({ object: { ha: { priority: undefined } } })).toEqual(DEFAULTS);
    expect(problemsOf({ object: { ha: { priority: null } } })).toEqual(['object: ha.priority: expected integer, found an empty value (null)']);
  });

  it('a getter that throws is a problem at its key, not a crash', () => {
    const ha = Object.defineProperty({}, 'priority', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(problemsOf({ object: { ha } })).toEqual(['object: ha.priority: reading it threw: boom']);
  });

  it('a file and an object together, or a source name for a file, are refused', () => {
    expect(problemsOf({ object: {}, file: 'x.json' })).toEqual(['options: object: give either file or object, not both']);
    expect(problemsOf({ file: 'x.json', source: 'x' })).toEqual(['options: source: names an object; a file is named by its path']);
  });

  it('a cyclic object outside hastate\'s sections is never walked', () => {
    const app: Record<string, unknown> = {};
    app.self = app;
    expect(load({ object: { app, ha: { priority: 2 } }, appSections: ['app'] }).ha.priority).toBe(2);
  });
});

describe('object robustness', () => {
  it('any value as the object, with or without a section: a ConfigError or a configuration, never a crash', () => {
    fc.assert(
      fc.property(fc.anything({ withMap: true, withSet: true, withBigInt: true, withNullPrototype: true, withDate: true }), fc.boolean(), (object, withSection) => {
        const o: LoadOptions = withSection ? { object: { hastate: object }, section: 'hastate' } : { object };
        try {
          load(o);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).problems.length).toBeGreaterThan(0);
        }
      }),
      { ...fcParams(), numRuns: 1000 },
    );
  });
});
