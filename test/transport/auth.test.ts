import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, MESSAGE_SIZE, type HaMessage } from '../../src/transport/codec.ts';
import {
  AuthKeyring, AuthVerifier, frameKind, MAX_REPLAY_SENDERS, REORDER_WINDOW_MS, REPLAY_WINDOW_STAMPS, sealMessage, STAMP_PER_MS, StampClock, TAGGED_SIZE, TRAILER_MAGIC,
  type AuthMode,
} from '../../src/transport/auth.ts';
import { receiveDatagram, type ReceiveContext } from '../../src/transport/receive.ts';
import { TransportStats } from '../../src/transport/stats.ts';
import { parseConfigText } from '../../src/config/index.ts';
import { HaNode } from '../../src/runtime/node.ts';
import { createNodeMetrics } from '../../src/runtime/metrics.ts';
import pino from 'pino';

const SECRET = 'k'.repeat(32);
const OTHER = 'x'.repeat(32);
const keyring = new AuthKeyring([[1, Buffer.from(SECRET)], [2, Buffer.from('n'.repeat(24))]]);
const wrongRing = new AuthKeyring([[1, Buffer.from(OTHER)]]);
const NOW_MS = 1_763_800_000_000;
const WINDOW_MS = 30_000;

const message = (over: Partial<HaMessage> = {}): HaMessage => ({
  type: 'heartbeat', role: 'primary', priority: 10, sequence: 7, timestampMs: NOW_MS, epoch: 3, nodeId: 'node-a', ...over,
});
const body = (over: Partial<HaMessage> = {}) => encodeMessage(message(over));
const stampAt = (ms: number, counter = 0) => ms * STAMP_PER_MS + counter;
const sealed = (stamp = stampAt(NOW_MS), over: Partial<HaMessage> = {}, ring = keyring, keyId = 1) => sealMessage(body(over), ring, keyId, stamp);
const verifier = (mode: AuthMode = 'enforce', opts: { maxSenders?: number } = {}) =>
  new AuthVerifier({ mode, keyring, keyId: 1, freshnessWindowMs: WINDOW_MS }, opts);
const check = (v: AuthVerifier, data: Uint8Array, nowMs = NOW_MS) => {
  const kind = frameKind(data);
  if (!kind.ok) return { ok: false as const, reason: kind.reason };
  const decoded = decodeMessage(data.subarray(0, MESSAGE_SIZE));
  if (!decoded.ok) return { ok: false as const, reason: decoded.reason };
  return v.check(data, kind.tagged, decoded.message.nodeId, nowMs);
};
const reasonOf = (r: { ok: boolean; reason?: string }) => (r.ok ? 'accepted' : r.reason);

describe('HMAC trailer', () => {
  it('tags and verifies: the 52 bytes are unchanged, the trailer follows', () => {
    const plain = body();
    const data = sealed();
    expect(data.byteLength).toBe(TAGGED_SIZE);
    expect(data.subarray(0, MESSAGE_SIZE).equals(plain)).toBe(true);
    expect(data[MESSAGE_SIZE]).toBe(TRAILER_MAGIC);
    expect(data[MESSAGE_SIZE + 1]).toBe(1);
    expect(check(verifier(), data)).toEqual({ ok: true, verified: true });
    // A second key id verifies with its own key.
    expect(check(verifier(), sealed(stampAt(NOW_MS, 1), {}, keyring, 2))).toEqual({ ok: true, verified: true });
  });

  it('frames: 52 bytes untagged, 78 with the trailer magic tagged, anything else by length', () => {
    expect(frameKind(body())).toEqual({ ok: true, tagged: false });
    expect(frameKind(sealed())).toEqual({ ok: true, tagged: true });
    for (const n of [0, 1, 51, 53, 77, 79, 1500]) expect(frameKind(new Uint8Array(n))).toMatchObject({ ok: false, reason: 'length' });
    const bad = Buffer.from(sealed());
    bad[MESSAGE_SIZE] = 0xa2;
    expect(frameKind(bad)).toMatchObject({ ok: false, reason: 'auth-format' });
  });

  it('counts every reason: missing, unknown key, stale (past, future, absurd), replay, bad tag', () => {
    const v = verifier();
    expect(reasonOf(check(v, body()))).toBe('auth-missing');
    const unknownKey = Buffer.from(sealed());
    unknownKey[MESSAGE_SIZE + 1] = 9;
    expect(reasonOf(check(v, unknownKey))).toBe('auth-unknown-key');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS - WINDOW_MS - 1))))).toBe('auth-stale');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS + WINDOW_MS + 1))))).toBe('auth-stale');
    const absurd = Buffer.from(sealed());
    absurd.writeUInt32BE(0xffffffff, MESSAGE_SIZE + 2);
    expect(reasonOf(check(v, absurd))).toBe('auth-stale');
    // Exactly at the window's edges is still fresh.
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS - WINDOW_MS))))).toBe('accepted');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS - WINDOW_MS))))).toBe('auth-replay');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS + WINDOW_MS), { nodeId: 'node-b' })))).toBe('accepted');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 5), {}, wrongRing)))).toBe('auth-bad-tag');
    const flippedBody = Buffer.from(sealed(stampAt(NOW_MS, 6)));
    flippedBody[4] = flippedBody[4]! ^ 0x40; // priority
    expect(reasonOf(check(v, flippedBody))).toBe('auth-bad-tag');
    const flippedTag = Buffer.from(sealed(stampAt(NOW_MS, 7)));
    flippedTag[TAGGED_SIZE - 1] = flippedTag[TAGGED_SIZE - 1]! ^ 1;
    expect(reasonOf(check(v, flippedTag))).toBe('auth-bad-tag');
    const flippedStamp = Buffer.from(sealed(stampAt(NOW_MS, 8)));
    flippedStamp[MESSAGE_SIZE + 9] = flippedStamp[MESSAGE_SIZE + 9]! ^ 1;
    expect(reasonOf(check(v, flippedStamp))).toBe('auth-bad-tag');
  });

  it('replay: the same datagram twice, or one older than the reorder window, is dropped; a newer one passes', () => {
    const v = verifier();
    const first = sealed(stampAt(NOW_MS, 3));
    expect(reasonOf(check(v, first))).toBe('accepted');
    expect(reasonOf(check(v, first))).toBe('auth-replay');
    // Overtaken but never seen (a reordering link): accepted once, then a replay.
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 2))))).toBe('accepted');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 2))))).toBe('auth-replay');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS - REORDER_WINDOW_MS - 1))))).toBe('auth-replay');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 4))))).toBe('accepted');
    // Marks are per sender: another node's older stamp is fine.
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 1), { nodeId: 'node-b' })))).toBe('accepted');
  });

  it('the replay mark moves only after a valid tag', () => {
    const v = verifier();
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 10))))).toBe('accepted');
    expect(v.mark('node-a')).toBe(stampAt(NOW_MS, 10));
    // A forger claiming a far newer stamp must not push the mark past the real sender.
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS + 20_000), {}, wrongRing)))).toBe('auth-bad-tag');
    expect(v.mark('node-a')).toBe(stampAt(NOW_MS, 10));
    // Stale and unknown-key drops leave it too.
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS + WINDOW_MS + 5))))).toBe('auth-stale');
    expect(v.mark('node-a')).toBe(stampAt(NOW_MS, 10));
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 11))))).toBe('accepted');
    expect(v.mark('node-a')).toBe(stampAt(NOW_MS, 11));
    // A forged datagram never creates a mark for a sender we have not heard.
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS), { nodeId: 'mallory' }, wrongRing)))).toBe('auth-bad-tag');
    expect(v.mark('mallory')).toBeUndefined();
  });

  it('modes: off hears both formats unchecked; accept-both takes untagged but verifies tagged; enforce needs a tag', () => {
    const forged = sealed(stampAt(NOW_MS), {}, wrongRing);
    expect(check(verifier('off'), body())).toEqual({ ok: true, verified: false });
    expect(check(verifier('off'), forged)).toEqual({ ok: true, verified: false });
    expect(check(verifier('accept-both'), body())).toEqual({ ok: true, verified: false });
    expect(reasonOf(check(verifier('accept-both'), forged))).toBe('auth-bad-tag');
    expect(check(verifier('accept-both'), sealed())).toEqual({ ok: true, verified: true });
    expect(reasonOf(check(verifier('enforce'), body()))).toBe('auth-missing');
    // Off works without any key at all.
    const keyless = new AuthVerifier({ mode: 'off', keyring: null, keyId: 1, freshnessWindowMs: WINDOW_MS });
    expect(check(keyless, forged)).toEqual({ ok: true, verified: false });
    expect(() => new AuthVerifier({ mode: 'enforce', keyring: null, keyId: 1, freshnessWindowMs: 1 })).toThrow(RangeError);
    expect(() => new AuthVerifier({ mode: 'enforce', keyring, keyId: 7, freshnessWindowMs: 1 })).toThrow(/no key with id 7/);
  });

  it('remembers at most REPLAY_WINDOW_STAMPS stamps per sender, however many it accepts', () => {
    const v = verifier();
    for (let i = 0; i < 4 * REPLAY_WINDOW_STAMPS; i++) expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 2 * i))))).toBe('accepted');
    expect(v.rememberedStamps('node-a')).toBe(REPLAY_WINDOW_STAMPS);
    // Forgotten stamps stay refused: the never-seen gap just below the memory included.
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 0))))).toBe('auth-replay');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 1))))).toBe('auth-replay');
    expect(v.rememberedStamps('node-a')).toBe(REPLAY_WINDOW_STAMPS);
  });

  it('bounds the replay table, evicting the least recently accepted sender', () => {
    expect(MAX_REPLAY_SENDERS).toBe(1024);
    const v = verifier('enforce', { maxSenders: 3 });
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) expect(reasonOf(check(v, sealed(stampAt(NOW_MS, i), { nodeId: id })))).toBe('accepted');
    expect(v.trackedSenders).toBe(3);
    expect(v.mark('a')).toBeUndefined();
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 9), { nodeId: 'b' })))).toBe('accepted');
    expect(reasonOf(check(v, sealed(stampAt(NOW_MS, 9), { nodeId: 'e' })))).toBe('accepted');
    expect(v.mark('c')).toBeUndefined();
    expect(v.mark('b')).toBeDefined();
  });

  it('stamps strictly increase even when the wall clock stands still or steps back', () => {
    const clock = new StampClock();
    const walls = [NOW_MS, NOW_MS, NOW_MS, NOW_MS - 5_000, NOW_MS + 1, NOW_MS + 1];
    const stamps = walls.map((w) => clock.next(w));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]!).toBeGreaterThan(stamps[i - 1]!);
    expect(stamps[0]).toBe(stampAt(NOW_MS));
    expect(stamps[4]).toBe(stampAt(NOW_MS + 1));
  });

  it('keys never show up in JSON or inspect output, and bad keys are refused', () => {
    for (const text of [JSON.stringify({ keyring }), inspect({ keyring }, { depth: 10, showHidden: true })]) {
      expect(text).not.toContain(SECRET);
      expect(text).toContain('redacted');
    }
    expect(() => new AuthKeyring([[1, Buffer.from('short')]])).toThrow(/16/);
    expect(() => new AuthKeyring([[256, Buffer.from(SECRET)]])).toThrow(RangeError);
    expect(() => new AuthKeyring([[1, Buffer.from(SECRET)], [1, Buffer.from(OTHER)]])).toThrow(/twice/);
    expect(() => sealMessage(new Uint8Array(51), keyring, 1, 1)).toThrow(RangeError);
    expect(() => sealMessage(body(), keyring, 3, 1)).toThrow(/no key/);
  });
});

describe('receive path', () => {
  const context = (mode: AuthMode, nowMs = NOW_MS): ReceiveContext => ({
    nodeId: 'self',
    stats: new TransportStats(),
    verifier: verifier(mode),
    log: null,
    sentRecently: (seq) => seq === 1,
    wallMs: () => nowMs,
    monotonicMs: () => 0,
  });
  const from = { address: '127.0.0.1', port: 9 };

  it('every datagram is accepted, looped or dropped by exactly one reason', () => {
    const ctx = context('enforce');
    const inputs: [Uint8Array, string][] = [
      [sealed(stampAt(NOW_MS, 1)), 'accepted'],
      [sealed(stampAt(NOW_MS, 1)), 'auth-replay'],
      [body(), 'auth-missing'],
      [sealed(stampAt(NOW_MS, 2), {}, wrongRing), 'auth-bad-tag'],
      [sealed(stampAt(NOW_MS - 60_000)), 'auth-stale'],
      [new Uint8Array(10), 'length'],
      [Buffer.concat([Buffer.alloc(2), sealed().subarray(2)]), 'magic'],
      [sealed(stampAt(NOW_MS, 3), { nodeId: 'self', sequence: 1 }), 'looped'],
      [sealed(stampAt(NOW_MS, 4), { nodeId: 'self', sequence: 2 }), 'duplicate-node-id'],
      [sealed(stampAt(NOW_MS, 5), { nodeId: 'self', sequence: 3 }, wrongRing), 'auth-bad-tag'],
    ];
    for (const [data, expected] of inputs) {
      const before = { ...ctx.stats.dropped, looped: ctx.stats.looped, accepted: ctx.stats.accepted };
      const event = receiveDatagram(ctx, data, from);
      const after = { ...ctx.stats.dropped, looped: ctx.stats.looped, accepted: ctx.stats.accepted } as Record<string, number>;
      const moved = Object.keys(after).filter((k) => after[k] !== ((before as Record<string, number>)[k] ?? 0));
      expect(moved).toEqual([expected]);
      expect(event === null).toBe(expected !== 'accepted');
    }
    const s = ctx.stats;
    expect(s.received).toBe(inputs.length);
    expect(s.accepted + s.looped + s.droppedTotal).toBe(s.received);
    expect(s.authVerified).toBe(1);
  });

  it('accepted datagrams become the role event of their message; off counts tagged ones as unverified', () => {
    const ctx = context('off');
    expect(receiveDatagram(ctx, sealed(stampAt(NOW_MS), {}, wrongRing), from)).toMatchObject({ type: 'PEER.PRIMARY', peer: { nodeId: 'node-a', priority: 10, epoch: 3 } });
    expect(receiveDatagram(ctx, body({ nodeId: 'node-b', role: 'standby' }), from)).toMatchObject({ type: 'PEER.STANDBY' });
    expect(ctx.stats.authUnverified).toBe(1);
    expect(ctx.stats.peers.get('node-a')?.address).toBe('127.0.0.1');
  });
});

describe('metrics', () => {
  it('hastate_datagrams_dropped_total has a series for every auth reason, counting the transport drops', async () => {
    const config = parseConfigText('ha:\n  interface: 127.0.0.1\n  auth: { mode: enforce, key_env: K }\nstatus:\n  enabled: false\n', 't.yaml', { env: { K: `1:${SECRET}` } });
    const node = new HaNode({ config, logger: pino({ level: 'silent' }) });
    const metrics = createNodeMetrics(node);
    try {
      node.transportStats.drop('auth-bad-tag', 'test', null);
      const { body } = await metrics.render();
      for (const reason of ['auth-format', 'auth-missing', 'auth-unknown-key', 'auth-stale', 'auth-replay']) {
        expect(body).toContain(`hastate_datagrams_dropped_total{reason="${reason}"} 0`);
      }
      expect(body).toContain('hastate_datagrams_dropped_total{reason="auth-bad-tag"} 1');
      expect(body).not.toContain(SECRET);
    } finally {
      metrics.stop();
    }
  });
});
