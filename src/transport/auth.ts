/**
 * Authenticated heartbeats: an HMAC trailer after the unchanged 52-byte message.
 *
 *   offset  size  field
 *        0    52  the seed's message, byte for byte (see codec.ts)
 *       52     1  uint8  trailer magic/version = 0xA1
 *       53     1  uint8  key id (0..255)
 *       54     8  uint64 stamp = wall milliseconds * 1024 + counter, strictly increasing per sender
 *       62    16  HMAC-SHA256(key, bytes 0..61), first 16 bytes
 *
 * The stamp serves both replay protection (it must not have been accepted from that sender
 * before, and may trail its newest accepted stamp by a small reorder window only; see
 * replay-window.ts) and freshness (its milliseconds must be within the window of the receiver's clock).
 * Deriving it from wall time rather than a counter keeps it increasing across restarts, so a
 * restarted sender is not mistaken for a replayer.
 *
 * Everything here is pure apart from HMAC computation: clocks are passed in.
 */
import { Buffer } from 'node:buffer';
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { MESSAGE_SIZE } from './codec.ts';
import { apiMisuse } from '../assert.ts';
import { ReplayWindow } from './replay-window.ts';
export { REPLAY_WINDOW_STAMPS } from './replay-window.ts';

export const AUTH_MODES = ['off', 'accept-both', 'enforce'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const TRAILER_MAGIC = 0xa1;
export const TAG_BYTES = 16;
/** Magic, key id, stamp: the part of the trailer the tag covers. */
export const TRAILER_HEADER_BYTES = 1 + 1 + 8;
export const TRAILER_BYTES = TRAILER_HEADER_BYTES + TAG_BYTES;
export const TAGGED_SIZE = MESSAGE_SIZE + TRAILER_BYTES;
/** Counter values per millisecond in a stamp; more sends in one ms borrow from the next ms. */
export const STAMP_PER_MS = 1024;

export const MIN_KEY_BYTES = 16;
export const MAX_KEY_BYTES = 256;
export const MAX_KEY_ID = 255;
/** Two is enough for a rotation; a few more leave room for mistakes without growing unbounded. */
export const MAX_KEYS = 8;
/** Replay marks kept; only senders with a valid tag enter the table, so forgers cannot evict. */
export const MAX_REPLAY_SENDERS = 1024;
/**
 * How far behind a sender's newest accepted stamp a not-yet-seen one is still accepted.
 * Reordering on a LAN spans well under a millisecond, but a burst may straddle a millisecond
 * tick or a busy host; 250 ms covers both while staying far below any heartbeat timeout.
 */
export const REORDER_WINDOW_MS = 250;

export type AuthDropReason = 'auth-format' | 'auth-missing' | 'auth-unknown-key' | 'auth-stale' | 'auth-replay' | 'auth-bad-tag';
export const AUTH_DROP_REASONS: readonly AuthDropReason[] = Object.freeze([
  'auth-format', 'auth-missing', 'auth-unknown-key', 'auth-stale', 'auth-replay', 'auth-bad-tag',
] as const);

const OFFSET_MAGIC = MESSAGE_SIZE;
const OFFSET_KEY_ID = MESSAGE_SIZE + 1;
const OFFSET_STAMP = MESSAGE_SIZE + 2;
const OFFSET_TAG = MESSAGE_SIZE + TRAILER_HEADER_BYTES;
const TWO_POW_32 = 2 ** 32;
/** High halves at or above this make a stamp beyond 2^53: no honest clock gets there. */
const MAX_STAMP_HIGH = 2 ** 21;

/**
 * Shared keys by id. The secret bytes live only inside KeyObjects, which neither JSON nor
 * util.inspect reveal, so a keyring that ends up in a log line shows only its ids.
 */
export class AuthKeyring {
  readonly #keys = new Map<number, KeyObject>();

  constructor(entries: Iterable<readonly [number, Uint8Array]>) {
    for (const [id, secret] of entries) {
      if (!Number.isInteger(id) || id < 0 || id > MAX_KEY_ID) throw apiMisuse(`key id must be an integer in 0..${MAX_KEY_ID}`);
      if (secret.byteLength < MIN_KEY_BYTES || secret.byteLength > MAX_KEY_BYTES) {
        throw apiMisuse(`key ${id} must be ${MIN_KEY_BYTES}..${MAX_KEY_BYTES} bytes, got ${secret.byteLength}`);
      }
      if (this.#keys.has(id)) throw apiMisuse(`key id ${id} given twice`);
      if (this.#keys.size >= MAX_KEYS) throw apiMisuse(`at most ${MAX_KEYS} keys`);
      this.#keys.set(id, createSecretKey(Buffer.from(secret)));
    }
  }

  get ids(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  has(id: number): boolean {
    return this.#keys.has(id);
  }

  key(id: number): KeyObject | undefined {
    return this.#keys.get(id);
  }

  toJSON(): string {
    return `[auth keyring: ids ${this.ids.join(', ')}; secrets redacted]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

/** Issues strictly increasing stamps from a wall clock that may stand still or step back. */
export class StampClock {
  #last = 0;
  next(wallMs: number): number {
    const fromClock = Math.floor(wallMs) * STAMP_PER_MS;
    this.#last = Math.max(this.#last + 1, fromClock);
    return this.#last;
  }
}

export const stampMs = (stamp: number): number => Math.floor(stamp / STAMP_PER_MS);

// Byte arithmetic rather than a DataView: this runs for every datagram of a flood.
const readUint32 = (d: Uint8Array, at: number): number => d[at]! * 0x1000000 + ((d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!);

function tagOf(key: KeyObject, covered: Uint8Array): Buffer {
  return createHmac('sha256', key).update(covered).digest().subarray(0, TAG_BYTES);
}

/** Programmer error (wrong body size, unknown key id, bad stamp) -> throws RangeError. */
export function sealMessage(body: Uint8Array, keyring: AuthKeyring, keyId: number, stamp: number): Buffer {
  if (body.byteLength !== MESSAGE_SIZE) throw apiMisuse(`body must be ${MESSAGE_SIZE} bytes, got ${body.byteLength}`);
  const key = keyring.key(keyId);
  if (key === undefined) throw apiMisuse(`no key with id ${keyId}`);
  if (!Number.isSafeInteger(stamp) || stamp < 0) throw apiMisuse(`stamp must be a safe non-negative integer, got ${stamp}`);
  const out = Buffer.alloc(TAGGED_SIZE);
  out.set(body, 0);
  out.writeUInt8(TRAILER_MAGIC, OFFSET_MAGIC);
  out.writeUInt8(keyId, OFFSET_KEY_ID);
  out.writeUInt32BE(Math.floor(stamp / TWO_POW_32), OFFSET_STAMP);
  out.writeUInt32BE(stamp % TWO_POW_32, OFFSET_STAMP + 4);
  tagOf(key, out.subarray(0, OFFSET_TAG)).copy(out, OFFSET_TAG);
  return out;
}

export type FrameKind = { ok: true; tagged: boolean } | { ok: false; reason: 'length' | 'auth-format'; detail: string };

/** Which of the two formats a datagram has, judged by length and the trailer magic only. */
export function frameKind(data: Uint8Array): FrameKind {
  if (data.byteLength === MESSAGE_SIZE) return { ok: true, tagged: false };
  if (data.byteLength !== TAGGED_SIZE) {
    return { ok: false, reason: 'length', detail: `length ${data.byteLength}, expected ${MESSAGE_SIZE} or ${TAGGED_SIZE}` };
  }
  const magic = data[OFFSET_MAGIC]!;
  if (magic !== TRAILER_MAGIC) {
    return { ok: false, reason: 'auth-format', detail: `trailer magic 0x${magic.toString(16).padStart(2, '0')}, expected 0x${TRAILER_MAGIC.toString(16)}` };
  }
  return { ok: true, tagged: true };
}

export interface AuthPolicy {
  mode: AuthMode;
  /** Required unless mode is off. */
  keyring: AuthKeyring | null;
  /** Key id this node signs with. */
  keyId: number;
  freshnessWindowMs: number;
}

export type VerifyResult = { ok: true; verified: boolean } | { ok: false; reason: AuthDropReason; detail: string };

/**
 * The receive-side policy with its replay marks. `check` runs after the 52-byte body has been
 * decoded (the sender's node id keys the replay table) and before anything reaches the machine.
 */
export class AuthVerifier {
  readonly policy: AuthPolicy;
  readonly #marks = new Map<string, ReplayWindow>();
  readonly #maxSenders: number;

  constructor(policy: AuthPolicy, opts: { maxSenders?: number } = {}) {
    if (policy.mode !== 'off' && policy.keyring === null) throw apiMisuse(`auth mode ${policy.mode} needs a keyring`);
    if (policy.mode !== 'off' && !policy.keyring!.has(policy.keyId)) throw apiMisuse(`no key with id ${policy.keyId}`);
    this.policy = policy;
    this.#maxSenders = opts.maxSenders ?? MAX_REPLAY_SENDERS;
  }

  get signs(): boolean {
    return this.policy.mode !== 'off';
  }

  /** Newest accepted stamp of a sender (tests and status). */
  mark(nodeId: string): number | undefined {
    return this.#marks.get(nodeId)?.newest;
  }

  /** Stamps remembered for a sender (tests: memory stays bounded). */
  rememberedStamps(nodeId: string): number {
    return this.#marks.get(nodeId)?.size ?? 0;
  }

  get trackedSenders(): number {
    return this.#marks.size;
  }

  /**
   * `data` has passed frameKind and its body decoded to a message from `senderId`.
   * Order: key id, freshness, replay (all cheap) before the HMAC; the replay window records last.
   */
  check(data: Uint8Array, tagged: boolean, senderId: string, wallMs: number): VerifyResult {
    const { mode } = this.policy;
    if (!tagged) {
      return mode === 'enforce' ? { ok: false, reason: 'auth-missing', detail: `untagged datagram from ${senderId}` } : { ok: true, verified: false };
    }
    // Off: a peer in accept-both signs; we must still hear it during a rollout.
    if (mode === 'off') return { ok: true, verified: false };
    const keyId = data[OFFSET_KEY_ID]!;
    const key = this.policy.keyring!.key(keyId);
    if (key === undefined) return { ok: false, reason: 'auth-unknown-key', detail: `key id ${keyId} from ${senderId}, known ${this.policy.keyring!.ids.join(', ')}` };
    const high = readUint32(data, OFFSET_STAMP);
    const windowMs = this.policy.freshnessWindowMs;
    if (high >= MAX_STAMP_HIGH) return { ok: false, reason: 'auth-stale', detail: `stamp from ${senderId} is far in the future` };
    const stamp = high * TWO_POW_32 + readUint32(data, OFFSET_STAMP + 4);
    const skewMs = stampMs(stamp) - wallMs;
    if (Math.abs(skewMs) > windowMs) {
      return { ok: false, reason: 'auth-stale', detail: `stamp from ${senderId} is ${skewMs} ms from our clock (window ${windowMs} ms)` };
    }
    const replayWindow = this.#marks.get(senderId);
    const verdict = replayWindow?.admits(stamp, senderId);
    if (verdict !== undefined && !verdict.ok) return { ok: false, reason: 'auth-replay', detail: verdict.detail };
    const expected = tagOf(key, data.subarray(0, OFFSET_TAG));
    if (!timingSafeEqual(expected, data.subarray(OFFSET_TAG, TAGGED_SIZE))) {
      return { ok: false, reason: 'auth-bad-tag', detail: `tag does not verify with key id ${keyId} (claimed sender ${senderId})` };
    }
    // Re-insert so Map order is least recently accepted first: that is the one evicted.
    this.#marks.delete(senderId);
    if (replayWindow === undefined) {
      this.#marks.set(senderId, new ReplayWindow(stamp, REORDER_WINDOW_MS * STAMP_PER_MS));
    } else {
      replayWindow.record(stamp);
      this.#marks.set(senderId, replayWindow);
    }
    if (this.#marks.size > this.#maxSenders) this.#marks.delete(this.#marks.keys().next().value!);
    return { ok: true, verified: true };
  }
}
