/**
 * The multicast wire format: one fixed 52-byte datagram, byte for byte the packed C struct of
 * the C++ design we interoperate with (network byte order):
 *
 *   offset  size  field
 *        0     2  uint16 magic = 0xBEA7
 *        2     1  uint8  msgType   1 announce, 2 heartbeat, 3 role declaration
 *        3     1  uint8  role      0 unknown, 1 primary, 2 standby
 *        4     4  int32  priority
 *        8     4  uint32 sequence  per sender, increasing
 *       12     8  uint64 timestamp
 *       20    32  char   nodeId[32] NUL-padded, NUL-terminated (so at most 31 bytes of UTF-8)
 *
 * Our extension, invisible to C++ peers: the 64-bit timestamp is split. The low 44 bits are
 * milliseconds since the Unix epoch (informational only; 44 bits last until the year 2527),
 * the high 20 bits carry the sender's epoch (election term, 0..MAX_EPOCH). A C++ node writes
 * plain milliseconds there, which decodes as epoch 0 with the right time, so mixed clusters
 * keep working: C++ nodes simply never claim a term.
 *
 * The field is handled as two 32-bit halves rather than one number because a double cannot
 * hold 64 bits exactly; every value we produce or accept is exact.
 */
import { Buffer } from 'node:buffer';
import { codePointName, INT32_MAX, INT32_MIN, MAX_NODE_ID_BYTES, nodeIdProblem as identityProblem, WIRE_ROLES, type WireRole } from '../../machines/identity.ts';
import { apiMisuse } from '../assert.ts';

export const MESSAGE_SIZE = 52;
export const MAGIC = 0xbea7;
export { MAX_NODE_ID_BYTES };
export const MAX_EPOCH = 0xfffff;

export type MessageType = 'announce' | 'heartbeat' | 'declaration';
export type { WireRole };

export interface HaMessage {
  type: MessageType;
  role: WireRole;
  /** int32 */
  priority: number;
  /** uint32 */
  sequence: number;
  /** 0 .. 2^44-1 */
  timestampMs: number;
  /** 0 .. MAX_EPOCH */
  epoch: number;
  /** 1..31 UTF-8 bytes, no NUL, no control characters */
  nodeId: string;
}

export type DropReason = 'length' | 'magic' | 'type' | 'role' | 'node-id' | 'self';
export const DROP_REASONS: readonly DropReason[] = Object.freeze(['length', 'magic', 'type', 'role', 'node-id', 'self'] as const);

export type DecodeResult = { ok: true; message: HaMessage } | { ok: false; reason: DropReason; detail: string };

const OFFSET_TYPE = 2;
const OFFSET_ROLE = 3;
const OFFSET_PRIORITY = 4;
const OFFSET_SEQUENCE = 8;
const OFFSET_TIMESTAMP = 12;
const OFFSET_NODE_ID = 20;
const NODE_ID_FIELD_BYTES = 32;

const TIMESTAMP_BITS = 44;
const MAX_TIMESTAMP_MS = 2 ** TIMESTAMP_BITS - 1;
/** Bits of the timestamp that live in the high 32-bit half, below the epoch. */
const TIMESTAMP_HIGH_BITS = TIMESTAMP_BITS - 32;
const TWO_POW_32 = 2 ** 32;

// Index = wire value, so decoding is a lookup and encoding an indexOf.
const TYPES: readonly MessageType[] = ['announce', 'heartbeat', 'declaration'];
const TYPE_BASE = 1; // msgType 0 is not a message in the C++ design
const ROLES: readonly WireRole[] = WIRE_ROLES;

// ignoreBOM: a leading U+FEFF is part of the id, not a byte-order mark to strip silently.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Node ids recently decoded and found valid, by their bytes. A node hears the same few ids at
 * every heartbeat; matching the bytes of one of these skips UTF-8 decoding and validation (and
 * the string they allocate). Bounded, replaced round-robin; holds only ids that passed.
 */
const ID_CACHE_SIZE = 8;
const idCache: { bytes: Uint8Array; id: string }[] = [];
let idCacheNext = 0;

function cachedNodeId(bytes: Uint8Array): string | undefined {
  search: for (const entry of idCache) {
    if (entry.bytes.length !== bytes.length) continue;
    for (let i = 0; i < bytes.length; i++) if (entry.bytes[i] !== bytes[i]) continue search;
    return entry.id;
  }
  return undefined;
}

function rememberNodeId(bytes: Uint8Array, id: string): void {
  idCache[idCacheNext] = { bytes: Uint8Array.from(bytes), id };
  idCacheNext = (idCacheNext + 1) % ID_CACHE_SIZE;
}

/** Validates a node id against the wire rules (machines/identity.ts): returns an error message or null. */
export function nodeIdProblem(id: string): string | null {
  if (typeof id !== 'string') return 'node id must be a string';
  const p = identityProblem(id);
  if (p === null) return null;
  if (p.kind === 'empty') return 'node id is empty';
  if (p.kind === 'too-long') return `node id is ${p.bytes} UTF-8 bytes, at most ${MAX_NODE_ID_BYTES} fit the wire format`;
  if (p.codePoint === 0) return 'node id contains NUL';
  return `node id contains a non-printable character ${codePointName(p.codePoint)} at index ${p.index}`;
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw apiMisuse(`${field} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}

/** Programmer error (values out of range, bad nodeId) -> throws a RangeError naming the field (code HASTATE_API_MISUSE). */
export function encodeMessage(m: HaMessage): Buffer {
  const type = TYPES.indexOf(m.type);
  if (type < 0) throw apiMisuse(`type must be one of ${TYPES.join(', ')}, got ${String(m.type)}`);
  const role = ROLES.indexOf(m.role);
  if (role < 0) throw apiMisuse(`role must be one of ${ROLES.join(', ')}, got ${String(m.role)}`);
  checkInteger('priority', m.priority, INT32_MIN, INT32_MAX);
  checkInteger('sequence', m.sequence, 0, TWO_POW_32 - 1);
  checkInteger('timestampMs', m.timestampMs, 0, MAX_TIMESTAMP_MS);
  checkInteger('epoch', m.epoch, 0, MAX_EPOCH);
  const problem = nodeIdProblem(m.nodeId);
  if (problem !== null) throw apiMisuse(`nodeId: ${problem}`);

  // alloc zero-fills, which gives the C side its NUL terminator and padding for free.
  const buf = Buffer.alloc(MESSAGE_SIZE);
  buf.writeUInt16BE(MAGIC, 0);
  buf.writeUInt8(type + TYPE_BASE, OFFSET_TYPE);
  buf.writeUInt8(role, OFFSET_ROLE);
  buf.writeInt32BE(m.priority, OFFSET_PRIORITY);
  buf.writeUInt32BE(m.sequence, OFFSET_SEQUENCE);
  // Multiplication, not <<: epoch << 12 overflows a signed 32-bit int for epochs >= 2^19.
  const high = m.epoch * 2 ** TIMESTAMP_HIGH_BITS + Math.floor(m.timestampMs / TWO_POW_32);
  buf.writeUInt32BE(high, OFFSET_TIMESTAMP);
  buf.writeUInt32BE(m.timestampMs % TWO_POW_32, OFFSET_TIMESTAMP + 4);
  buf.write(m.nodeId, OFFSET_NODE_ID, 'utf8');
  return buf;
}

function drop(reason: DropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Pure and total: never throws for any input, because it runs on whatever arrives from the
 * network. selfNodeId: packets carrying our own id are dropped with reason 'self'.
 */
export function decodeMessage(data: Uint8Array, selfNodeId?: string): DecodeResult {
  if (!(data instanceof Uint8Array)) return drop('length', 'not a byte array');
  if (data.byteLength !== MESSAGE_SIZE) return drop('length', `length ${data.byteLength}, expected ${MESSAGE_SIZE}`);
  // A DataView over the caller's window: data may be a slice of a larger (pooled) buffer.
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);

  const magic = view.getUint16(0);
  if (magic !== MAGIC) return drop('magic', `magic 0x${magic.toString(16).padStart(4, '0')}, expected 0x${MAGIC.toString(16)}`);
  const typeByte = view.getUint8(OFFSET_TYPE);
  const type = TYPES[typeByte - TYPE_BASE];
  if (type === undefined) return drop('type', `msgType ${typeByte}, expected 1..${TYPES.length}`);
  const roleByte = view.getUint8(OFFSET_ROLE);
  const role = ROLES[roleByte];
  if (role === undefined) return drop('role', `role ${roleByte}, expected 0..${ROLES.length - 1}`);

  const idField = data.subarray(OFFSET_NODE_ID, OFFSET_NODE_ID + NODE_ID_FIELD_BYTES);
  // Only the bytes before the first NUL count: C code may leave stack garbage after it.
  const end = idField.indexOf(0);
  if (end < 0) return drop('node-id', 'node id has no NUL terminator');
  if (end === 0) return drop('node-id', 'node id is empty');
  const idBytes = idField.subarray(0, end);
  let nodeId = cachedNodeId(idBytes);
  if (nodeId === undefined) {
    try {
      nodeId = decoder.decode(idBytes);
    } catch {
      return drop('node-id', 'node id is not valid UTF-8');
    }
    const problem = nodeIdProblem(nodeId);
    if (problem !== null) return drop('node-id', problem);
    rememberNodeId(idBytes, nodeId);
  }
  if (selfNodeId !== undefined && nodeId === selfNodeId) return drop('self', `own node id ${nodeId}`);

  const high = view.getUint32(OFFSET_TIMESTAMP);
  const low = view.getUint32(OFFSET_TIMESTAMP + 4);
  return {
    ok: true,
    message: {
      type,
      role,
      priority: view.getInt32(OFFSET_PRIORITY),
      sequence: view.getUint32(OFFSET_SEQUENCE),
      timestampMs: (high % 2 ** TIMESTAMP_HIGH_BITS) * TWO_POW_32 + low,
      epoch: Math.floor(high / 2 ** TIMESTAMP_HIGH_BITS),
      nodeId,
    },
  };
}
