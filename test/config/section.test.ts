import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText, type LoadOptions } from '../../src/config/index.ts';
import { DEFAULTS, fakeInterfaces, problemsOf } from './helpers.ts';
import { REFERENCE_KEYS } from '../../src/reference/config.ts';

// With the reference application's keys, as the CLI loads them (they are not hastate's own).
const base = { env: {}, networkInterfaces: fakeInterfaces, appKeys: REFERENCE_KEYS };
const lines = (...ls: string[]) => ls.join('\n') + '\n';

const text = (t: string, source: string, o: Omit<LoadOptions, 'file' | 'object' | 'source'>) => () => parseConfigText(t, source, { ...base, ...o });

/** An application's own JSONC file, hastate's keys in a section of it. */
const APP = lines(
  '{',
  '  // the application\'s keys',
  '  "database": { "url": "postgres://db/app" },',
  '  "hastate": {',
  '    "ha": { "priority": 5 },',
  '    "log": { "level": "debug" }',
  '  }',
  '}',
);

describe('hastate\'s keys in a section of a larger file', () => {
  it('reads only the section; the application\'s keys are left alone', () => {
    const c = parseConfigText(APP, 'app.json', { ...base, section: 'hastate' });
    expect(c).toEqual({ ...DEFAULTS, ha: { ...DEFAULTS.ha, priority: 5 }, log: { level: 'debug' } });
  });

  it('a dotted path, or an array of keys, reaches a nested section (YAML too)', () => {
    const yaml = lines('app:', '  port: 80', 'services:', '  ha.node:', '    ha:', '      priority: 3', '  other: [1, 2]');
    expect(parseConfigText(yaml, 'app.yaml', { ...base, section: ['services', 'ha.node'] }).ha.priority).toBe(3);
    const json = '{"services": {"hastate": {"ha": {"priority": 4}}}}';
    expect(parseConfigText(json, 'app.json', { ...base, section: 'services.hastate' }).ha.priority).toBe(4);
  });

  it('a typo inside the section names the full path, with file, line and column', () => {
    const bad = APP.replace('"priority": 5', '"prority": 5').replace('"debug"', '"loud"');
    expect(problemsOf(text(bad, 'app.json', { section: 'hastate' }))).toEqual([
      'app.json:5:13: hastate.ha.prority: unknown key; did you mean hastate.ha.priority?',
      'app.json:6:23: hastate.log.level: must be one of: trace, debug, info, warn, error, fatal, silent; found string "loud"',
    ]);
  });

  it('cross-key checks inside a section name the full path of the key to change', () => {
    const bad = '{"hastate": {"ha": {"heartbeat": {"interval_seconds": 5, "timeout_seconds": 4}}}}';
    expect(problemsOf(text(bad, 'app.json', { section: 'hastate' }))).toEqual([
      'app.json:1:77: hastate.ha.heartbeat.timeout_seconds: must be greater than ha.heartbeat.interval_seconds (5), found 4',
    ]);
  });

  it('a missing section is one problem, with a did-you-mean when a key is close', () => {
    expect(problemsOf(text(APP, 'app.json', { section: 'hastat' }))).toEqual([
      'app.json:1:1: (root): section hastat not found; did you mean hastate?',
    ]);
    expect(problemsOf(text(APP, 'app.json', { section: 'hastate.cluster' }))).toEqual([
      'app.json:4:14: hastate: section hastate.cluster not found (hastate\'s ha, log are here: use section hastate)',
    ]);
  });

  it('a missing section in a file whose top level holds hastate\'s keys says so', () => {
    expect(problemsOf(text('{"ha": {"priority": 1}, "app": {}}', 'seed.json', { section: 'hastate' }))).toEqual([
      'seed.json:1:1: (root): section hastate not found (hastate\'s ha is here at the top level: use no section)',
    ]);
  });

  it('a section that is not a mapping, an empty file, a path through a scalar', () => {
    expect(problemsOf(text('{"hastate": [1]}', 'app.json', { section: 'hastate' }))).toEqual([
      'app.json:1:13: hastate: expected a mapping of hastate\'s keys (ha, status, log, notify, reference), found a sequence',
    ]);
    expect(problemsOf(text('{"hastate": null}', 'app.json', { section: 'hastate' }))).toEqual([
      'app.json:1:13: hastate: expected a mapping of hastate\'s keys (ha, status, log, notify, reference), found an empty value (null)',
    ]);
    expect(problemsOf(text('', 'app.yaml', { section: 'hastate' }))).toEqual([
      'app.yaml: (root): expected a mapping holding hastate; the document is empty',
    ]);
    expect(problemsOf(text('{"app": "x"}', 'app.json', { section: 'app.hastate' }))).toEqual([
      'app.json:1:9: app: expected a mapping holding app.hastate; found string "x"',
    ]);
  });

  it('the section key twice is a duplicate, not a silent choice', () => {
    expect(problemsOf(text('{\n"hastate": {},\n"hastate": {"ha": {}}\n}', 'app.json', { section: 'hastate' }))).toEqual([
      'app.json:3:1: hastate: duplicate key (first defined at line 2)',
    ]);
  });

  it('environment overrides still apply, and still name the variable', () => {
    expect(parseConfigText(APP, 'app.json', { ...base, section: 'hastate', env: { HASTATE_HA_PRIORITY: '9' } }).ha.priority).toBe(9);
    expect(problemsOf(text(APP, 'app.json', { section: 'hastate', env: { HASTATE_HA_PRIORTY: '9' } }))).toEqual([
      'env: HASTATE_HA_PRIORTY: unknown variable; did you mean HASTATE_HA_PRIORITY?',
    ]);
  });

  it('loadConfig({ file, section }) reads a file from disk', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hastate-section-')), 'app.json');
    writeFileSync(file, APP);
    expect(loadConfig({ ...base, file, section: 'hastate' }).ha.priority).toBe(5);
  });

  it('bad section options are refused naming the option', () => {
    expect(problemsOf(text(APP, 'app.json', { section: 'hastate..ha' }))).toEqual([
      'options: section: every key of the path must be a non-empty string, found "hastate..ha"',
    ]);
    expect(problemsOf(text(APP, 'app.json', { section: Array(17).fill('a') }))).toEqual([
      'options: section: at most 16 keys deep, found 17',
    ]);
    expect(problemsOf(() => loadConfig({ ...base, section: 'hastate' }))).toEqual([
      'options: section: a section needs a file or an object to look in',
    ]);
  });
});

describe('the seed\'s layout: hastate\'s keys at the top level next to the application\'s', () => {
  const SEED = lines(
    '{',
    '  "database": { "url": "postgres://db/app" }, // the application\'s',
    '  "workers": 4,',
    '  "ha": { "priority": 2 }',
    '}',
  );

  it('without appSections every top-level key must be hastate\'s', () => {
    expect(problemsOf(text(SEED, 'app.json', {}))).toEqual([
      'app.json:2:3: database: unknown key',
      'app.json:3:3: workers: unknown key',
    ]);
  });

  it('appSections lists the application\'s names; others are still refused', () => {
    expect(parseConfigText(SEED, 'app.json', { ...base, appSections: ['database', 'workers'] }).ha.priority).toBe(2);
    expect(problemsOf(text(SEED, 'app.json', { appSections: ['database'] }))).toEqual(['app.json:3:3: workers: unknown key']);
  });

  it('appSections "*" leaves every other name to the application, but not a near-miss of hastate\'s', () => {
    expect(parseConfigText(SEED, 'app.json', { ...base, appSections: '*' }).ha.priority).toBe(2);
    const typo = SEED.replace('"ha"', '"hq"');
    expect(problemsOf(text(typo, 'app.json', { appSections: '*' }))).toEqual([
      expect.stringMatching(/^app\.json:4:3: hq: unknown key; did you mean ha\? \(with app sections "\*", a top-level name this close/),
    ]);
    expect(problemsOf(text('{"Log": {}, "ha": {}}', 'app.json', { appSections: '*' }))).toEqual([
      expect.stringMatching(/^app\.json:1:2: Log: unknown key; did you mean log\?/),
    ]);
  });

  it('a typo inside hastate\'s own blocks is refused in every mode', () => {
    const typo = SEED.replace('"priority"', '"priorty"');
    for (const appSections of [['database', 'workers'], '*'] as const) {
      expect(problemsOf(text(typo, 'app.json', { appSections }))).toEqual(['app.json:4:11: ha.priorty: unknown key; did you mean ha.priority?']);
    }
  });

  it('appSections applies at the top of a section too', () => {
    const t = '{"hastate": {"ha": {}, "extra": 1}}';
    expect(parseConfigText(t, 'app.json', { ...base, section: 'hastate', appSections: ['extra'] })).toEqual(DEFAULTS);
    expect(problemsOf(text(t, 'app.json', { section: 'hastate' }))).toEqual(['app.json:1:24: hastate.extra: unknown key']);
  });

  it('appSections may not claim hastate\'s names, nor hold empty names', () => {
    expect(problemsOf(text(SEED, 'app.json', { appSections: 'database' as unknown as string[] }))).toEqual([
      'options: appSections: expected a list of names or "*", found "database"',
    ]);
    expect(problemsOf(text(SEED, 'app.json', { appSections: ['database', 'ha', ''] }))).toEqual([
      'options: appSections: ha is one of hastate\'s keys, not the application\'s',
      'options: appSections: expected non-empty names, found ""',
    ]);
  });
});
