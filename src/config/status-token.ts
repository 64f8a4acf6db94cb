/**
 * The bearer token that state-changing status endpoints (POST /resign) require, read from
 * `status.token_file` or the environment variable named by `status.token_env`. The config
 * names where the token is, never the token. Trailing whitespace (a file's final newline) is
 * dropped; what remains goes into an HTTP header, so it must be visible ASCII without spaces.
 * No message here ever contains token bytes.
 */
import { parseSecretEnv, parseSecretFile } from './secret-text.ts';

export const MIN_TOKEN_BYTES = 16;
export const MAX_TOKEN_BYTES = 256;
/** A token file is one token and a newline; anything much larger is not a token file. */
const MAX_TOKEN_SOURCE_BYTES = 1024;

export type TokenResult = { ok: true; token: string } | { ok: false; message: string };

export function parseToken(text: string, what: string): TokenResult {
  const token = text.replace(/\s+$/u, '');
  if (token === '') return { ok: false, message: `${what} is empty (expected a token of at least ${MIN_TOKEN_BYTES} characters, e.g. from: openssl rand -hex 32)` };
  if (!/^[\x21-\x7e]+$/.test(token)) return { ok: false, message: `${what} must hold one token of visible ASCII characters (no spaces, no line breaks inside)` };
  if (token.length < MIN_TOKEN_BYTES) return { ok: false, message: `${what} holds a token of ${token.length} characters, at least ${MIN_TOKEN_BYTES} are required` };
  if (token.length > MAX_TOKEN_BYTES) return { ok: false, message: `${what} holds a token of ${token.length} characters, at most ${MAX_TOKEN_BYTES} are allowed` };
  return { ok: true, token };
}

export function readTokenFile(path: string): TokenResult {
  return parseSecretFile('token file', path, MAX_TOKEN_SOURCE_BYTES, parseToken);
}

export function readTokenEnv(name: string, env: Record<string, string | undefined>): TokenResult {
  return parseSecretEnv(name, env, { max: MAX_TOKEN_SOURCE_BYTES, unit: 'characters' }, parseToken);
}
