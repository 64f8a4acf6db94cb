/**
 * status.token_file / status.token_env: the token is read at load time from the place the
 * config names, every problem names the key (and line) to fix, and the token itself appears
 * in no message and no rendering.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderEffectiveConfig } from '../../src/config/index.ts';
import { parse, problems, secretFiles } from './helpers.ts';

const TOKEN = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const { dir, write: file } = secretFiles('hastate-token-');

describe('status token configuration', () => {
  it('defaults to no token', () => {
    expect(parse('').status).toEqual({ enabled: true, host: '127.0.0.1', port: 9990, tokenFile: '', tokenEnv: '', token: null });
  });

  it('reads the token from a file (final newline dropped) or from the named environment variable, also through HASTATE_* overrides', () => {
    const path = file('ok.token', `${TOKEN}\n`);
    expect(parse(`status:\n  token_file: ${path}\n`).status.token).toBe(TOKEN);
    expect(parse('status:\n  token_env: RESIGN_TOKEN\n', { RESIGN_TOKEN: TOKEN }).status.token).toBe(TOKEN);
    expect(parse('', { HASTATE_STATUS_TOKEN_FILE: path }).status.token).toBe(TOKEN);
  });

  it.each([
    ['a missing file', () => `status:\n  token_file: ${join(dir, 'absent')}\n`, {}, /^cfg\.yaml:2:15: status\.token_file: cannot read token file .*absent: ENOENT$/],
    ['a short token', () => `status:\n  token_file: ${file('short', 'abc\n')}\n`, {}, /status\.token_file: token file .* holds a token of 3 characters, at least 16 are required/],
    ['an empty file', () => `status:\n  token_file: ${file('empty', '\n')}\n`, {}, /status\.token_file: token file .* is empty .*openssl rand -hex 32/],
    ['a token with a space', () => `status:\n  token_file: ${file('space', `${TOKEN} ${TOKEN}\n`)}\n`, {}, /status\.token_file: .* visible ASCII/],
    ['an unset variable', () => 'status:\n  token_env: RESIGN_TOKEN\n', {}, /^cfg\.yaml:2:14: status\.token_env: environment variable RESIGN_TOKEN is not set$/],
    ['an oversized variable', () => 'status:\n  token_env: RESIGN_TOKEN\n', { RESIGN_TOKEN: 'x'.repeat(1025) }, /^cfg\.yaml:2:14: status\.token_env: environment variable RESIGN_TOKEN is longer than 1024 characters$/],
    // The bound counts characters: 600 two-byte characters pass it and fail as a token instead.
    ['a non-ASCII variable', () => 'status:\n  token_env: RESIGN_TOKEN\n', { RESIGN_TOKEN: '\u00e9'.repeat(600) }, /status\.token_env: environment variable RESIGN_TOKEN must hold one token of visible ASCII/],
    ['both sources', () => `status:\n  token_file: ${file('both', TOKEN)}\n  token_env: RESIGN_TOKEN\n`, { RESIGN_TOKEN: TOKEN }, /status\.token_env: set only one of status\.token_file and status\.token_env, found both/],
    ['a HASTATE_ variable name', () => 'status:\n  token_env: HASTATE_TOKEN\n', {}, /status\.token_env: must not start with HASTATE_/],
  ])('refuses %s with a message naming the key', (_name, text, env, message) => {
    const found = problems(text(), env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('never shows the token: not in problems, not in the rendered configuration', () => {
    const path = file('long', `${TOKEN.repeat(9)}\n`);
    const found = problems(`status:\n  token_file: ${path}\n`);
    expect(found[0]).toMatch(/at most 256/);
    expect(found[0]).not.toContain(TOKEN);
    const c = parse(`status:\n  token_file: ${file('fine', TOKEN)}\n`);
    expect(renderEffectiveConfig(c)).not.toContain(TOKEN);
  });
});
