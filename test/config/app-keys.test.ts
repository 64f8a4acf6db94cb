import { describe, expect, it } from 'vitest';
import { defineConfigKeys, keyTypes, loadConfig, parseConfigText, renderEffectiveConfig, type LoadOptions } from '../../src/config/index.ts';
import { configTableRow } from '../../src/config/table.ts';
import { fakeInterfaces, HASTATE_DEFAULTS, problemsOf, schemaMistakes } from './helpers.ts';

const base = { env: {}, networkInterfaces: fakeInterfaces };

const appKeys = defineConfigKeys({
  envPrefix: 'MYAPP_',
  keys: {
    'app.database_url': { type: keyTypes.string({ pattern: /^postgres:\/\//, patternDoc: 'a postgres:// URL' }), default: 'postgres://localhost/app', doc: 'Where the data lives.' },
    'app.pool_size': { type: keyTypes.integer(1, 64), default: 8, doc: 'Database connections.' },
    'app.flush_interval_seconds': { type: keyTypes.seconds(), default: 5, doc: 'How often the primary flushes.' },
    'app.mode': { type: keyTypes.oneOf(['fast', 'safe']), default: 'safe', doc: 'Durability.' },
    'app.http.port': { type: keyTypes.port(), default: 8080, doc: 'HTTP port.' },
    'app.http.verbose': { type: keyTypes.boolean(), default: false, doc: 'Log every request.' },
  },
});

const parse = (text: string, o: Omit<LoadOptions, 'file' | 'object' | 'source' | 'appKeys'> = {}) => parseConfigText(text, 'app.jsonc', { ...base, appKeys, ...o });

describe('an application\'s own keys (defineConfigKeys)', () => {
  it('are defaulted, converted and typed like hastate\'s, next to them in the result', () => {
    const c = parse('{"ha": {"priority": 1}, "app": {"pool_size": 3, "flush_interval_seconds": 0.25, "http": {"verbose": true}}}');
    // Typed: these assignments fail to compile if the result's shape is wrong.
    const pool: number = c.app.poolSize;
    const flushMs: number = c.app.flushIntervalMs;
    const mode: 'fast' | 'safe' = c.app.mode;
    const verbose: boolean = c.app.http.verbose;
    expect({ pool, flushMs, mode, verbose }).toEqual({ pool: 3, flushMs: 250, mode: 'safe', verbose: true });
    expect(c.app).toEqual({ databaseUrl: 'postgres://localhost/app', poolSize: 3, flushIntervalMs: 250, mode: 'safe', http: { port: 8080, verbose: true } });
    expect(c.ha.priority).toBe(1);
  });

  it('bad values, typos and wrong shapes are reported with file, line, column and did-you-mean', () => {
    expect(problemsOf(() => parse([
      '{',
      '  // the application',
      '  "app": {',
      '    "pool_size": 100, "mode": "turbo",',
      '    "databse_url": "postgres://x",',
      '    "database_url": "mysql://x",',
      '    "http": 8080',
      '  }',
      '}',
    ].join('\n')))).toEqual([
      'app.jsonc:4:18: app.pool_size: must be an integer in range (1..64), found 100',
      'app.jsonc:4:31: app.mode: must be one of: fast, safe; found string "turbo"',
      'app.jsonc:5:5: app.databse_url: unknown key; did you mean app.database_url?',
      'app.jsonc:6:21: app.database_url: "mysql://x" is not a postgres:// URL',
      'app.jsonc:7:13: app.http: expected a mapping of app.http.* keys, found number 8080',
    ]);
  });

  it('are overridden from the environment under the application\'s prefix; unknown variables there are refused', () => {
    const c = parse('{}', { env: { MYAPP_APP_POOL_SIZE: '12', MYAPP_APP_HTTP_VERBOSE: 'true', HASTATE_HA_PRIORITY: '4' } });
    expect(c.app).toMatchObject({ poolSize: 12, http: { verbose: true } });
    expect(c.ha.priority).toBe(4);
    expect(problemsOf(() => parse('{}', { env: { MYAPP_APP_POOL_SIZ: '12', MYAPP_APP_MODE: 'turbo', MYAPP_APP_HTTP_PORT: 'eighty' } }))).toEqual([
      'env: MYAPP_APP_HTTP_PORT: expected a number, found "eighty"',
      'env: MYAPP_APP_MODE: must be one of: fast, safe; found string "turbo"',
      'env: MYAPP_APP_POOL_SIZ: unknown variable; did you mean MYAPP_APP_POOL_SIZE?',
    ]);
  });

  it('work in a section and with an object, with full paths in problems', () => {
    const text = '{"db": 1, "hastate": {"ha": {}, "app": {"pool_size": 0}}}';
    expect(problemsOf(() => parse(text, { section: 'hastate' }))).toEqual([
      'app.jsonc:1:54: hastate.app.pool_size: must be an integer in range (1..64), found 0',
    ]);
    expect(loadConfig({ ...base, appKeys, object: { app: { mode: 'fast' } } }).app.mode).toBe('fast');
    expect(problemsOf(() => loadConfig({ ...base, appKeys, object: { app: { mode: 1 } } }))).toEqual([
      'object: app.mode: must be one of: fast, safe; found number 1',
    ]);
  });

  it('without appKeys the application\'s section is an unknown key; hastate\'s result is unchanged by them', () => {
    expect(problemsOf(() => parseConfigText('{"app": {}}', 'a.json', base))).toEqual(['a.json:1:2: app: unknown key']);
    const { app, ...rest } = parse('{}');
    expect(app.poolSize).toBe(8);
    expect(rest).toEqual(HASTATE_DEFAULTS);
  });

  it('render with the keys, and re-parse to the same configuration', () => {
    const c = parse('{"app": {"flush_interval_seconds": 1.5, "mode": "fast"}}');
    const text = renderEffectiveConfig(c, appKeys);
    expect(text).toContain('app:\n  database_url: postgres://localhost/app\n  pool_size: 8\n  flush_interval_seconds: 1.5\n  mode: fast\n');
    expect(parseConfigText(text, 'rendered.yaml', { ...base, appKeys })).toEqual(c);
    expect(renderEffectiveConfig(c)).not.toContain('app:');
  });

  it('document themselves like hastate\'s keys (same table row format)', () => {
    expect(appKeys.table.map(configTableRow)).toEqual([
      '| `app.database_url` | `MYAPP_APP_DATABASE_URL` | a postgres:// URL | postgres://localhost/app | Where the data lives. |',
      '| `app.pool_size` | `MYAPP_APP_POOL_SIZE` | integer (1..64) | 8 | Database connections. |',
      '| `app.flush_interval_seconds` | `MYAPP_APP_FLUSH_INTERVAL_SECONDS` | number of seconds (0 < s <= 3600, fractions allowed) | 5 | How often the primary flushes. |',
      '| `app.mode` | `MYAPP_APP_MODE` | fast \\| safe | safe | Durability. |',
      '| `app.http.port` | `MYAPP_APP_HTTP_PORT` | integer (1..65535) | 8080 | HTTP port. |',
      '| `app.http.verbose` | `MYAPP_APP_HTTP_VERBOSE` | boolean | false | Log every request. |',
    ]);
  });

  it('a string pattern checks every value alike, whatever its flags', () => {
    const keys = defineConfigKeys({ envPrefix: 'P_', keys: { 'p.name': { type: keyTypes.string({ pattern: /^[a-z]+$/g, patternDoc: 'lower-case letters' }), default: 'abc', doc: 'x' } } });
    for (let i = 0; i < 3; i++) expect(loadConfig({ ...base, appKeys: keys, object: { p: { name: 'abc' } } }).p.name).toBe('abc');
    expect(problemsOf(() => loadConfig({ ...base, appKeys: keys, object: { p: { name: 'ABC' } } }))).toEqual(['object: p.name: "ABC" is not lower-case letters']);
  });

  it('may share hastate\'s HASTATE_ prefix', () => {
    const shared = defineConfigKeys({ envPrefix: 'HASTATE_', keys: { 'app.workers': { type: keyTypes.integer(1, 8), default: 2, doc: 'Workers.' } } });
    expect(loadConfig({ ...base, appKeys: shared, env: { HASTATE_APP_WORKERS: '3' } }).app.workers).toBe(3);
    expect(problemsOf(() => loadConfig({ ...base, appKeys: shared, env: { HASTATE_APP_WORKER: '3' } }))).toEqual([
      'env: HASTATE_APP_WORKER: unknown variable; did you mean HASTATE_APP_WORKERS?',
    ]);
  });
});

describe('mistakes in a declaration are programming errors, all listed at once', () => {
  const mistakes = schemaMistakes;

  it('names, defaults, docs, units, prefixes and clashes', () => {
    expect(mistakes(() => defineConfigKeys({
      envPrefix: 'myapp',
      keys: {
        'ha.extra': { type: keyTypes.boolean(), default: true, doc: 'x' },
        'App.Port': { type: keyTypes.port(), default: 1, doc: 'x' },
        'app.size': { type: keyTypes.integer(1, 9), default: 10, doc: 'x' },
        'app.delay': { type: keyTypes.seconds(), default: 1, doc: 'x' },
        'app.delay_seconds': { type: keyTypes.integer(1, 9), default: 1, doc: 'x' },
        'app.http': { type: keyTypes.port(), default: 80, doc: 'x' },
        'app.http.port': { type: keyTypes.port(), default: 80, doc: 'x' },
        'app.nodoc': { type: keyTypes.boolean(), default: true, doc: ' ' },
        'app.constructor.x': { type: keyTypes.boolean(), default: true, doc: 'x' },
        'app.to_string': { type: keyTypes.boolean(), default: true, doc: 'x' },
      },
    }))).toEqual([
      'envPrefix "myapp" must be upper-case letters, digits and _, ending in _ (e.g. "MYAPP_")',
      '"ha.extra": ha.* belongs to hastate; put the application\'s keys under a name of its own',
      '"App.Port": each dot-separated part must be snake_case (a-z, 0-9, _; starting with a letter)',
      '"app.size": default number 10: must be an integer in range (1..9), found 10',
      '"app.delay": a seconds key must be named ..._seconds',
      '"app.delay_seconds": only a keyTypes.seconds() key may be named ..._seconds',
      '"app.http": is both a key and the section holding app.http.port',
      '"app.nodoc": needs a doc',
      '"app.constructor.x": becomes constructor, a name every JavaScript object already has',
      '"app.to_string": becomes toString, a name every JavaScript object already has',
    ]);
  });

  it('an environment variable that is already hastate\'s', () => {
    expect(mistakes(() => defineConfigKeys({ envPrefix: 'HASTATE_', keys: { 'status_port.x': { type: keyTypes.port(), default: 1, doc: 'x' }, 'status.x': { type: keyTypes.port(), default: 1, doc: 'x' } } })))
      .toEqual(['"status.x": status.* belongs to hastate; put the application\'s keys under a name of its own']);
    expect(mistakes(() => defineConfigKeys({ envPrefix: 'HASTATE_', keys: { 'ha_heartbeat.port': { type: keyTypes.port(), default: 1, doc: 'x' } } })))
      .toEqual(['"ha_heartbeat.port": its environment variable HASTATE_HA_HEARTBEAT_PORT is already that of ha.heartbeat.port']);
  });

  it('appSections may not claim a name the application declared keys under', () => {
    expect(problemsOf(() => loadConfig({ ...base, appKeys, object: {}, appSections: ['app'] }))).toEqual([
      'options: appSections: app holds keys declared in appKeys, which are validated, not left alone',
    ]);
  });
});
