import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderEffectiveConfig } from '../../src/config/index.ts';
import { parseKeyText } from '../../src/config/auth-keys.ts';
import { parse, problems, secretFiles } from './helpers.ts';

const SECRET = 'f3a9c0ffee5eed5a1tb0a7d1c3e5f7a9';
const NEXT = 'b'.repeat(40);
const { dir, write: keyFile } = secretFiles('hastate-auth-');

describe('ha.auth configuration', () => {
  it('defaults to off with no keys', () => {
    expect(parse('').ha.auth).toEqual({ mode: 'off', keyFile: '', keyEnv: '', keyId: 1, freshnessWindowMs: 30_000, keys: null });
  });

  it('reads keys from a file and from an environment variable, merging them', () => {
    const file = keyFile('two.key', `# current and next\n1:${SECRET}\n2:${NEXT}\n`);
    const c = parse(`ha:\n  auth:\n    mode: enforce\n    key_file: ${file}\n    key_id: 2\n    freshness_window_seconds: 5\n`);
    expect(c.ha.auth).toMatchObject({ mode: 'enforce', keyFile: file, keyId: 2, freshnessWindowMs: 5000 });
    expect(c.ha.auth.keys?.ids).toEqual([1, 2]);
    const e = parse('ha:\n  auth:\n    mode: accept-both\n    key_env: HA_KEYS\n', { HA_KEYS: `1:${SECRET}, 3:${NEXT}` });
    expect(e.ha.auth.keys?.ids).toEqual([1, 3]);
    const both = parse(`ha:\n  auth: { mode: enforce, key_file: ${file}, key_env: HA_KEYS }\n`, { HA_KEYS: `7:${NEXT}` });
    expect(both.ha.auth.keys?.ids).toEqual([1, 2, 7]);
    // Environment overrides reach every key.
    const env = parse('', { HASTATE_HA_AUTH_MODE: 'enforce', HASTATE_HA_AUTH_KEY_ENV: 'HA_KEYS', HA_KEYS: `1:${SECRET}` });
    expect(env.ha.auth.mode).toBe('enforce');
  });

  it('the secret appears neither in the rendered configuration nor in JSON of the config', () => {
    const file = keyFile('one.key', `1:${SECRET}\n`);
    const c = parse(`ha:\n  auth:\n    mode: enforce\n    key_file: ${file}\n`);
    expect(renderEffectiveConfig(c)).not.toContain(SECRET);
    expect(renderEffectiveConfig(c)).toContain(`key_file: ${file}`);
    expect(JSON.stringify(c)).not.toContain(SECRET);
  });

  it('refuses, one clear problem each: no key source, short key, unreadable file, missing env, unknown key id', () => {
    expect(problems('ha:\n  auth:\n    mode: enforce\n')).toEqual([
      'cfg.yaml:3:11: ha.auth.mode: mode enforce needs a shared key: set ha.auth.key_file or ha.auth.key_env',
    ]);
    const short = keyFile('short.key', '1:tooshort\n');
    expect(problems(`ha:\n  auth:\n    mode: enforce\n    key_file: ${short}\n`)).toEqual([
      `cfg.yaml:4:15: ha.auth.key_file: key file ${short}: key 1 is 8 bytes, at least 16 are required`,
    ]);
    const missing = join(dir, 'nope.key');
    expect(problems(`ha:\n  auth:\n    mode: accept-both\n    key_file: ${missing}\n`)).toEqual([
      `cfg.yaml:4:15: ha.auth.key_file: cannot read key file ${missing}: ENOENT`,
    ]);
    if (process.getuid?.() !== 0) {
      const locked = keyFile('locked.key', `1:${SECRET}\n`);
      chmodSync(locked, 0o000);
      expect(problems(`ha:\n  auth:\n    mode: enforce\n    key_file: ${locked}\n`)).toEqual([
        `cfg.yaml:4:15: ha.auth.key_file: cannot read key file ${locked}: EACCES`,
      ]);
    }
    expect(problems(`ha:\n  auth:\n    mode: enforce\n    key_file: ${dir}\n`)).toEqual([`cfg.yaml:4:15: ha.auth.key_file: key file ${dir} is not a regular file`]);
    // A FIFO would block a plain open until some writer appears; it is refused at once instead.
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(problems(`ha:\n  auth:\n    mode: enforce\n    key_file: ${fifo}\n`)).toEqual([`cfg.yaml:4:15: ha.auth.key_file: key file ${fifo} is not a regular file`]);
    expect(problems('ha:\n  auth:\n    mode: enforce\n    key_env: HA_KEYS\n')).toEqual([
      'cfg.yaml:4:14: ha.auth.key_env: environment variable HA_KEYS is not set',
    ]);
    const one = keyFile('id1.key', `1:${SECRET}\n`);
    expect(problems(`ha:\n  auth:\n    mode: enforce\n    key_file: ${one}\n    key_id: 4\n`)).toEqual([
      `cfg.yaml:5:13: ha.auth.key_id: no key with id 4 in ${one} (ids found: 1)`,
    ]);
    expect(problems('ha:\n  auth:\n    key_env: HASTATE_KEY\n')[0]).toMatch(/must not start with HASTATE_/);
    expect(problems('ha:\n  auth:\n    mode: on\n')[0]).toMatch(/must be one of: off, accept-both, enforce/);
    expect(problems('ha:\n  auth:\n    key_id: 256\n')[0]).toMatch(/0\.\.255/);
    // Keys given with mode off are still checked, so the switch to accept-both cannot fail later.
    expect(problems(`ha:\n  auth:\n    key_file: ${short}\n`)[0]).toMatch(/at least 16/);
    // Two sources disagreeing on one id.
    expect(problems(`ha:\n  auth: { mode: enforce, key_file: ${one}, key_env: K }\n`, { K: `1:${NEXT}` })[0]).toMatch(/key id 1 in \$K differs/);
  });

  it('bounds a key variable in UTF-8 bytes, not characters', () => {
    // 4097 two-byte characters: under 8192 characters, over 8192 bytes.
    expect(problems('ha:\n  auth:\n    key_env: HA_KEYS\n', { HA_KEYS: '\u00e9'.repeat(4097) })).toEqual([
      'cfg.yaml:3:14: ha.auth.key_env: environment variable HA_KEYS is larger than 8192 bytes',
    ]);
  });

  it('key text: entries, comments and limits; messages never quote a secret', () => {
    expect(parseKeyText(`1:${SECRET}\n\n# c\n 2:${NEXT} `, 'x')).toMatchObject({ ok: true });
    const cases: [string, RegExp][] = [
      ['', /holds no keys/],
      ['# only a comment\n', /holds no keys/],
      [SECRET, /does not start with a key id/],
      [`x:${SECRET}`, /does not start with a key id/],
      [`300:${SECRET}`, /ids are 0\.\.255/],
      [`1:${SECRET} 1:${NEXT}`, /appears twice/],
      [`1:${'a'.repeat(257)}`, /at most 256/],
      [Array.from({ length: 9 }, (_, i) => `${i}:${SECRET}`).join('\n'), /more than 8 keys/],
    ];
    for (const [text, message] of cases) {
      const r = parseKeyText(text, 'key file k');
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.message).toMatch(message);
        expect(r.message).not.toContain(SECRET);
      }
    }
  });
});
