/**
 * Reading ha.auth keys from a file or an environment variable. The text holds `id:secret`
 * entries separated by whitespace, commas or newlines; lines starting with `#` are comments.
 * The secret is the entry's bytes after the first colon, used as they are (so a hex or base64
 * string from `openssl rand` is a fine secret). No message here ever contains secret bytes.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { MAX_KEY_BYTES, MAX_KEY_ID, MAX_KEYS, MIN_KEY_BYTES } from '../transport/auth.ts';

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

export type TextResult = { ok: true; text: string } | { ok: false; message: string };

/**
 * Reads a small UTF-8 file of at most `maxBytes` (reading at most maxBytes + 1), so a path to a
 * device or a huge file cannot stall loading. `what` names the file in messages; the messages
 * never contain the file's bytes (it holds secrets).
 */
export function readSmallTextFile(path: string, what: string, maxBytes: number): TextResult {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { ok: false, message: `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  try {
    if (!fstatSync(fd).isFile()) return { ok: false, message: `${what} is not a regular file` };
    const buf = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) return { ok: false, message: `${what} is larger than ${maxBytes} bytes` };
    }
    try {
      return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, length)) };
    } catch {
      return { ok: false, message: `${what} is not valid UTF-8` };
    }
  } catch (err) {
    return { ok: false, message: `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

export function readKeyFile(path: string): KeysResult {
  const what = `key file ${path}`;
  const read = readSmallTextFile(path, what, MAX_KEY_SOURCE_BYTES);
  return read.ok ? parseKeyText(read.text, what) : read;
}

export function readKeyEnv(name: string, env: Record<string, string | undefined>): KeysResult {
  const what = `environment variable ${name}`;
  const text = env[name];
  if (text === undefined) return { ok: false, message: `${what} is not set` };
  if (Buffer.byteLength(text, 'utf8') > MAX_KEY_SOURCE_BYTES) return { ok: false, message: `${what} is larger than ${MAX_KEY_SOURCE_BYTES} bytes` };
  return parseKeyText(text, what);
}
