/**
 * Reading the small texts that hold secrets (ha.auth keys, the status token) from a file or an
 * environment variable, with a size bound so that a wrong path or variable cannot stall or bloat
 * loading. `what` names the source in messages; no message here ever contains the text itself.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type TextResult = { ok: true; text: string } | { ok: false; message: string };
type Failure = { ok: false; message: string };

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

/** Reads the file `${label} ${path}` (at most `maxBytes`) and parses it; messages name it so. */
export function parseSecretFile<R>(label: string, path: string, maxBytes: number, parse: (text: string, what: string) => R): R | Failure {
  const what = `${label} ${path}`;
  const read = readSmallTextFile(path, what, maxBytes);
  return read.ok ? parse(read.text, what) : read;
}

/**
 * How large an environment variable may be. Its value is already in memory, so the bound only
 * keeps a wrong variable out; `unit` says whether it counts UTF-8 bytes (binary secrets) or
 * characters (a token that must be ASCII anyway), and the message says which.
 */
export type EnvLimit = { max: number; unit: 'bytes' | 'characters' };

/** Reads the environment variable `name` from `env` and parses it; messages name the variable. */
export function parseSecretEnv<R>(name: string, env: Record<string, string | undefined>, limit: EnvLimit, parse: (text: string, what: string) => R): R | Failure {
  const what = `environment variable ${name}`;
  const text = env[name];
  if (text === undefined) return { ok: false, message: `${what} is not set` };
  const size = limit.unit === 'bytes' ? Buffer.byteLength(text, 'utf8') : text.length;
  if (size > limit.max) return { ok: false, message: `${what} is ${limit.unit === 'bytes' ? 'larger' : 'longer'} than ${limit.max} ${limit.unit}` };
  return parse(text, what);
}
