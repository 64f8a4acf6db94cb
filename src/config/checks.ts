/**
 * The value checks behind every configuration key: each takes a value in the user's form and
 * returns it converted to the output form, or a message saying what was expected and what was
 * found. hastate's own keys (schema.ts) and application keys (app-keys.ts) use the same checks,
 * so both are checked and worded alike.
 */

import { codePointName, MAX_NODE_ID_BYTES, nodeIdProblem, parseIPv4 } from '../../machines/identity.ts';

export type CheckResult = { ok: true; value: unknown } | { ok: false; message: string };

/** Upper bound for every duration, in seconds. */
export const MAX_SECONDS = 3600;

const MAX_SHOWN = 40;

/** Short human description of a value found in the config, e.g. `string "3"`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value (null)';
  if (typeof v === 'string') return `string ${quote(v)}`;
  if (typeof v === 'number') return `number ${String(v)}`;
  if (typeof v === 'boolean') return `boolean ${String(v)}`;
  if (typeof v === 'bigint') return `integer ${String(v)}`;
  if (Array.isArray(v)) return 'a sequence';
  if (v instanceof Uint8Array) return 'binary data';
  if (v instanceof Date) return 'a timestamp';
  return 'a mapping';
}

/** JSON-quoted, truncated, safe to print on one line. */
export function quote(s: string): string {
  const cut = s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}...` : s;
  return JSON.stringify(cut);
}

const ok = (value: unknown): CheckResult => ({ ok: true, value });
const bad = (message: string): CheckResult => ({ ok: false, message });

export function booleanCheck(v: unknown): CheckResult {
  return typeof v === 'boolean' ? ok(v) : bad(`expected boolean (true or false), found ${describeValue(v)}`);
}

export function integerCheck(min: number, max: number, what: string) {
  return (v: unknown): CheckResult => {
    if (typeof v !== 'number') return bad(`expected integer, found ${describeValue(v)}`);
    if (!Number.isInteger(v)) return bad(`expected integer, found ${describeValue(v)}`);
    if (v < min || v > max) return bad(`must be ${what} (${min}..${max}), found ${v}`);
    return ok(v + 0); // normalise -0
  };
}

export function secondsCheck(v: unknown): CheckResult {
  if (typeof v !== 'number') return bad(`expected a number of seconds, found ${describeValue(v)}`);
  if (!Number.isFinite(v)) return bad(`must be a finite number of seconds, found ${v}`);
  if (v <= 0) return bad(`must be greater than 0 seconds, found ${v}`);
  if (v > MAX_SECONDS) return bad(`must be at most ${MAX_SECONDS} seconds, found ${v}`);
  const ms = Math.round(v * 1000);
  if (ms < 1) return bad(`must be at least 0.001 seconds (1 ms), found ${v}`);
  return ok(ms);
}

export function enumCheck(allowed: readonly string[]) {
  return (v: unknown): CheckResult =>
    typeof v === 'string' && allowed.includes(v)
      ? ok(v)
      : bad(`must be one of: ${allowed.join(', ')}; found ${describeValue(v)}`);
}

export function stringOr(v: unknown, hint = ''): CheckResult | undefined {
  if (typeof v === 'string') return undefined;
  const quoted = typeof v === 'number' || typeof v === 'boolean' ? ` (quote it if you meant the text "${String(v)}")` : '';
  return bad(`expected string${hint}, found ${describeValue(v)}${quoted}`);
}

export function multicastCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (IPv4 multicast address)');
  if (notString) return notString;
  const o = parseIPv4(v as string);
  if (!o) return bad(`${quote(v as string)} is not a dotted-quad IPv4 address`);
  if (o[0] < 224 || o[0] > 239) {
    return bad(`${quote(v as string)} is not an IPv4 multicast address (224.0.0.0/4: 224.0.0.0 - 239.255.255.255)`);
  }
  return ok(v);
}

export function interfaceCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (IPv4 address)');
  if (notString) return notString;
  const o = parseIPv4(v as string);
  if (!o) return bad(`${quote(v as string)} is not a dotted-quad IPv4 address (give the NIC's address, not its name)`);
  if (o[0] === 0 || o[0] >= 224) return bad(`${quote(v as string)} is not a unicast address of a network interface`);
  return ok(v);
}

export function hostCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (IPv4 address or "localhost")');
  if (notString) return notString;
  if (v === 'localhost' || parseIPv4(v as string)) return ok(v);
  return bad(`${quote(v as string)} is not a dotted-quad IPv4 address or "localhost"`);
}

/** Upper bound for a notify command, in characters. */
export const MAX_COMMAND_CHARS = 4096;

export function commandCheck(v: unknown): CheckResult {
  return boundedText(v, ' (a shell command, or "" for none)', MAX_COMMAND_CHARS);
}

/** A string of at most `maxChars` characters without NUL: it is handed to the OS (a command line or a path). */
function boundedText(v: unknown, hint: string, maxChars: number): CheckResult {
  const notString = stringOr(v, hint);
  if (notString) return notString;
  const s = v as string;
  if (s.length > maxChars) return bad(`must be at most ${maxChars} characters, found ${s.length}`);
  if (s.includes('\u0000')) return bad('must not contain NUL');
  return ok(s);
}

/** A string that parses as a URL with one of `schemes` (without the colon), or the problem. */
function schemeUrl(v: unknown, schemes: readonly [string, string]): URL | CheckResult {
  const notString = stringOr(v, ` (${schemes[0]}:// or ${schemes[1]}:// URL)`);
  if (notString) return notString;
  let url: URL;
  try {
    url = new URL(v as string);
  } catch {
    return bad(`${quote(v as string)} is not a URL`);
  }
  if (!schemes.some((p) => url.protocol === `${p}:`)) return bad(`${quote(v as string)} must use ${schemes.join(' or ')}, found ${url.protocol}`);
  if (url.hostname === '') return bad(`${quote(v as string)} has no host`);
  return url;
}

export function httpUrlCheck(v: unknown): CheckResult {
  const url = schemeUrl(v, ['http', 'https']);
  if (!(url instanceof URL)) return url;
  if (url.search !== '' || url.hash !== '') return bad(`${quote(v as string)} must not have a query or fragment (it is a base URL)`);
  return ok((v as string).replace(/\/+$/, ''));
}

export function redisUrlCheck(v: unknown): CheckResult {
  const url = schemeUrl(v, ['redis', 'rediss']);
  return url instanceof URL ? ok(v) : url;
}

/** Comma-separated http(s) base URLs of etcd members. */
export function endpointsCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (comma-separated http:// URLs)');
  if (notString) return notString;
  const parts = (v as string).split(',').map((s) => s.trim());
  if (parts.length > 16) return bad(`must list at most 16 endpoints, found ${parts.length}`);
  const out: string[] = [];
  for (const [i, part] of parts.entries()) {
    const r = httpUrlCheck(part);
    if (!r.ok) return bad(`endpoint ${i + 1}: ${r.message}`);
    out.push(r.value as string);
  }
  return ok(out.join(','));
}

/** A key prefix for Redis keys or etcd keys: printable, no spaces, bounded. */
export function prefixCheck(v: unknown): CheckResult {
  const notString = stringOr(v);
  if (notString) return notString;
  const s = v as string;
  if (!/^[\x21-\x7e]{1,128}$/.test(s)) return bad(`${quote(s)} must be 1-128 printable ASCII characters without spaces`);
  return ok(s);
}

/** Upper bound for a file path, in characters. */
export const MAX_PATH_CHARS = 4096;

export function pathCheck(v: unknown): CheckResult {
  return boundedText(v, ' (a file path, or "" for none)', MAX_PATH_CHARS);
}

/** An environment variable name; names starting with `reservedPrefix` are configuration overrides. */
export function envNameCheck(reservedPrefix: string) {
  return (v: unknown): CheckResult => {
    const notString = stringOr(v, ' (an environment variable name, or "" for none)');
    if (notString) return notString;
    const s = v as string;
    if (s === '') return ok(s);
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(s)) return bad(`${quote(s)} is not an environment variable name (letters, digits, _; at most 128)`);
    // HASTATE_* variables are configuration overrides; an unknown one is refused as a typo.
    if (s.startsWith(reservedPrefix)) return bad(`must not start with ${reservedPrefix} (reserved for configuration overrides), found ${quote(s)}`);
    return ok(s);
  };
}

export function nodeIdCheck(v: unknown): CheckResult {
  const notString = stringOr(v);
  if (notString) return notString;
  const s = v as string;
  const p = nodeIdProblem(s);
  if (p?.kind === 'empty') return bad('must not be empty');
  if (p?.kind === 'control') return bad(`must not contain NUL or control characters, found ${codePointName(p.codePoint)} at index ${p.index}`);
  if (p?.kind === 'surrogate') return bad('must be valid Unicode (found an unpaired surrogate)');
  if (p?.kind === 'too-long') return bad(`must be at most ${MAX_NODE_ID_BYTES} UTF-8 bytes, found ${p.bytes} bytes`);
  return ok(s);
}

/** The value checks behind hastate's own keys, so that application keys are checked and worded alike. */
export const CHECKS = {
  boolean: booleanCheck,
  integer: integerCheck,
  seconds: secondsCheck,
  oneOf: enumCheck,
  httpUrl: httpUrlCheck,
  host: hostCheck,
  ipv4: interfaceCheck,
  multicastGroup: multicastCheck,
  filePath: pathCheck,
  command: commandCheck,
  stringOr,
} as const;
