/**
 * The identity rules every part of hastate agrees on: what a node id may be, how an IPv4
 * address is read and ordered, the range of a priority, and the roles the wire can carry.
 * Config validates with these, the codec enforces them on every datagram, and rank.ts orders
 * nodes with them, so one rule cannot drift from the others.
 *
 * It lives in machines/ (not src/) because rank.ts, which the role machine uses, needs the
 * IPv4 reading, and machines may import only xstate and each other. Hence pure: no imports at
 * all, no Node globals (UTF-8 length is counted here rather than with Buffer), so it pastes
 * into the Stately editor with the machines.
 */

/** A node id fits the wire's 32-byte char field with its NUL terminator: at most 31 UTF-8 bytes. */
export const MAX_NODE_ID_BYTES = 31;

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/**
 * The lowest int32 priority is reserved: a primary that hands over sends a standby declaration
 * with it (the seed's "leaving" announcement), so configuration accepts LEAVING_PRIORITY + 1
 * through INT32_MAX.
 */
export const LEAVING_PRIORITY = INT32_MIN;

/** The roles a datagram can carry; the index is the byte on the wire. */
export const WIRE_ROLES = ['unknown', 'primary', 'standby'] as const;
export type WireRole = (typeof WIRE_ROLES)[number];

/** Why a node id is refused; callers word the message for their audience (config file, wire). */
export type NodeIdProblem =
  | { kind: 'empty' }
  /** NUL, C0, DEL or C1: they would corrupt log lines and status output (and NUL ends the C string). */
  | { kind: 'control'; codePoint: number; index: number }
  /** An unpaired surrogate cannot survive UTF-8 encoding (it becomes U+FFFD), so it would not round-trip. */
  | { kind: 'surrogate'; codePoint: number; index: number }
  | { kind: 'too-long'; bytes: number };

const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;

/** The first thing wrong with `id` as a node id, or null when it is valid. */
export function nodeIdProblem(id: string): NodeIdProblem | null {
  if (id.length === 0) return { kind: 'empty' };
  const control = CONTROL.exec(id);
  if (control !== null) return { kind: 'control', codePoint: control[0].codePointAt(0)!, index: control.index };
  const surrogate = LONE_SURROGATE.exec(id);
  if (surrogate !== null) return { kind: 'surrogate', codePoint: surrogate[0].codePointAt(0)!, index: surrogate.index };
  const bytes = utf8ByteLength(id);
  if (bytes > MAX_NODE_ID_BYTES) return { kind: 'too-long', bytes };
  return null;
}

/** `U+001F` style, as messages name a character. */
export function codePointName(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Bytes `s` takes in UTF-8; an unpaired surrogate counts as the 3 bytes of U+FFFD it becomes. */
export function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

export type IPv4Octets = [number, number, number, number];

// Strict dotted quad: no leading zeros (010 would be octal to inet_aton), each octet 0..255.
const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** The four octets of a strict dotted quad, or undefined when `s` is not one. */
export function parseIPv4(s: string): IPv4Octets | undefined {
  const m = DOTTED_QUAD.exec(s);
  if (!m) return undefined;
  const o: IPv4Octets = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  return o.every((x) => x <= 255) ? o : undefined;
}

/** The IPv4 address as an unsigned 32-bit number, or null when `id` is not a dotted quad. */
export function ipv4ToNumber(id: string): number | null {
  const o = parseIPv4(id);
  // Multiplication, not <<: a shift would go negative for addresses from 128.0.0.0 up.
  return o === undefined ? null : ((o[0] * 256 + o[1]) * 256 + o[2]) * 256 + o[3];
}
