/**
 * The reference application's keys are its own (defineConfigKeys, src/reference/config.ts), not
 * hastate's: the core schema does not know them, and they behave through the application-keys
 * mechanism exactly as they did as hastate's keys. The CLI, shipping the application, knows them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, parseConfigText, renderEffectiveConfig } from '../../src/config/index.ts';
import { HASTATE_KEYS, HASTATE_TOP_LEVEL } from '../../src/config/key-set.ts';
import { REFERENCE_KEYS } from '../../src/reference/index.ts';
import { DEFAULTS, fakeInterfaces, problemsOf } from '../config/helpers.ts';

const base = { networkInterfaces: fakeInterfaces };
const withReference = (text: string, env: Record<string, string> = {}) => parseConfigText(text, 'ref.yaml', { ...base, env, appKeys: REFERENCE_KEYS });

describe('the core schema holds hastate\'s keys only', () => {
  it('no reference.* key, section or top-level name', () => {
    expect(CONFIG_KEYS.filter((k) => k.path.startsWith('reference.'))).toEqual([]);
    expect([...HASTATE_KEYS.sections].filter((s) => s.startsWith('reference'))).toEqual([]);
    expect(HASTATE_TOP_LEVEL).not.toContain('reference');
    expect(REFERENCE_KEYS.table).toHaveLength(15);
    expect(REFERENCE_KEYS.table.every((k) => k.path.startsWith('reference.') && k.env === `HASTATE_${k.path.replace(/\./g, '_').toUpperCase()}`)).toBe(true);
  });

  it('without the reference keys, reference: and HASTATE_REFERENCE_* are unknown', () => {
    expect(problemsOf(() => parseConfigText('reference:\n  enabled: true\n', 'ref.yaml', { ...base, env: {} }))).toEqual(['ref.yaml:1:1: reference: unknown key']);
    expect(problemsOf(() => parseConfigText('', 'ref.yaml', { ...base, env: { HASTATE_REFERENCE_ENABLED: 'true' } }))).toEqual([
      'env: HASTATE_REFERENCE_ENABLED: unknown variable',
    ]);
    expect(parseConfigText('', 'ref.yaml', { ...base, env: {} })).not.toHaveProperty('reference');
  });
});

describe('the reference keys through the application-keys mechanism', () => {
  it('are defaulted as before', () => {
    expect(withReference('').reference).toEqual(DEFAULTS.reference);
  });

  it('are validated with file:line:col and did-you-mean, in the same list as hastate\'s problems', () => {
    expect(problemsOf(() => withReference('ha:\n  priority: x\nreference:\n  api_ur: http://h\n  alerts:\n    port: 70000\n    max_body_bytes: 10\n'))).toEqual([
      'ref.yaml:2:13: ha.priority: expected integer, found string "x"',
      'ref.yaml:4:3: reference.api_ur: unknown key; did you mean reference.api_url?',
      'ref.yaml:6:11: reference.alerts.port: must be a port number (0..65535), found 70000',
      'ref.yaml:7:21: reference.alerts.max_body_bytes: must be a size in bytes (64..1048576), found 10',
    ]);
  });

  it('are overridden from HASTATE_REFERENCE_* variables; a misspelt one is refused with a hint', () => {
    const c = withReference('reference:\n  collect_interval_seconds: 5\n', { HASTATE_REFERENCE_COLLECT_INTERVAL_SECONDS: '20', HASTATE_REFERENCE_ENABLED: 'true' });
    expect(c.reference).toMatchObject({ enabled: true, collectIntervalMs: 20_000 });
    expect(problemsOf(() => withReference('', { HASTATE_REFERENCE_ENABLD: 'true' }))).toEqual([
      'env: HASTATE_REFERENCE_ENABLD: unknown variable; did you mean HASTATE_REFERENCE_ENABLED?',
    ]);
  });

  it('keep their cross-checks, also for values from the environment', () => {
    expect(problemsOf(() => withReference('', { HASTATE_REFERENCE_COLLECT_INTERVAL_SECONDS: '40' }))).toEqual([
      'defaults: reference.stale_after_seconds: must be greater than reference.collect_interval_seconds (40), found the default 30: data would be stale between two refreshes',
    ]);
  });

  it('render and re-parse to the same configuration', () => {
    const c = withReference('reference:\n  enabled: true\n  alerts: {retry_after_seconds: 0.25}\n');
    const text = renderEffectiveConfig(c, REFERENCE_KEYS);
    expect(text).toContain('reference:\n  enabled: true\n');
    expect(withReference(text)).toEqual(c);
  });
});

describe('the hastate CLI knows the reference keys (the application ships with it)', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_')));
  const hastate = (args: string[], extra: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8', env: { ...env, ...extra }, timeout: 20_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const file = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'hastate-ref-config-')), 'ref.yaml');
    writeFileSync(path, text);
    return path;
  };

  it('validate renders them, with HASTATE_REFERENCE_* applied', () => {
    const r = hastate(['validate', file('ha:\n  interface: 127.0.0.1\nreference:\n  enabled: true\n')], { HASTATE_REFERENCE_BMC_PORT: '9400' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reference:\n  enabled: true\n');
    expect(r.stdout).toContain('  bmc:\n    group: 224.100.200.18\n    port: 9400\n');
  });

  it('validate refuses a bad reference key and a broken relation, exit 2', () => {
    const path = file('ha:\n  interface: 127.0.0.1\nreference:\n  monitor:\n    request_port: 7000\n    response_port: 7000\n  bmc:\n    prot: 1\n');
    const r = hastate(['validate', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}:6:20: reference.monitor.response_port: must differ from reference.monitor.request_port (7000): requests and responses share the group`);
    expect(r.stderr).toContain(`${path}:8:5: reference.bmc.prot: unknown key; did you mean reference.bmc.port?`);
  });
});
