/**
 * Reading ha.auth keys from a file or an environment variable. The text holds `id:secret`
 * entries separated by whitespace, commas or newlines; lines starting with `#` are comments.
 * The secret is the entry's bytes after the first colon, used as they are (so a hex or base64
 * string from `openssl rand` is a fine secret). No message here ever contains secret bytes.
 */
import { MAX_KEY_BYTES, MAX_KEY_ID, MAX_KEYS, MIN_KEY_BYTES } from '../transport/auth.ts';
import { parseSecretEnv, parseSecretFile } from './secret-text.ts';

// The generic file reader used to live here; still exported from here for its importers.
export { readSmallTextFile, type TextResult } from './secret-text.ts';

/** Enough for MAX_KEYS maximal entries with comments; anything larger is not a key file. */
export const MAX_KEY_SOURCE_BYTES = 8 * 1024;

export type KeysResult = { ok: true; keys: Map<number, Buffer> } | { ok: false; message: string };

/** `what` names the source in messages, e.g. `key file /etc/hastate/auth.key`. */
export function parseKeyText(text: string, what: string): KeysResult {
  const keys = new Map<number, Buffer>();
  const entries = text
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('#'))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((e) => e !== '');
  if (entries.length === 0) return { ok: false, message: `${what} holds no keys (expected id:secret entries, e.g. 1:<at least ${MIN_KEY_BYTES} characters>)` };
  for (const [i, entry] of entries.entries()) {
    const n = i + 1;
    const colon = entry.indexOf(':');
    const idText = colon < 0 ? '' : entry.slice(0, colon);
    if (!/^\d{1,3}$/.test(idText)) return { ok: false, message: `${what}: entry ${n} does not start with a key id and a colon (expected id:secret with id 0..${MAX_KEY_ID})` };
    const id = Number(idText);
    if (id > MAX_KEY_ID) return { ok: false, message: `${what}: entry ${n} has key id ${id}, ids are 0..${MAX_KEY_ID}` };
    const secret = Buffer.from(entry.slice(colon + 1), 'utf8');
    if (secret.byteLength < MIN_KEY_BYTES) return { ok: false, message: `${what}: key ${id} is ${secret.byteLength} bytes, at least ${MIN_KEY_BYTES} are required` };
    if (secret.byteLength > MAX_KEY_BYTES) return { ok: false, message: `${what}: key ${id} is ${secret.byteLength} bytes, at most ${MAX_KEY_BYTES} are allowed` };
    if (keys.has(id)) return { ok: false, message: `${what}: key id ${id} appears twice` };
    if (keys.size >= MAX_KEYS) return { ok: false, message: `${what}: more than ${MAX_KEYS} keys` };
    keys.set(id, secret);
  }
  return { ok: true, keys };
}

export function readKeyFile(path: string): KeysResult {
  return parseSecretFile('key file', path, MAX_KEY_SOURCE_BYTES, parseKeyText);
}

export function readKeyEnv(name: string, env: Record<string, string | undefined>): KeysResult {
  return parseSecretEnv(name, env, { max: MAX_KEY_SOURCE_BYTES, unit: 'bytes' }, parseKeyText);
}
