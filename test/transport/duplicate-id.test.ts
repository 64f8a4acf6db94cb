/**
 * The receive path's duplicate-id rule: a datagram with our node id is our own loopback when
 * we sent its sequence lately, and another live process otherwise. Each process starts its
 * sequence at a random 32-bit value (its incarnation), so two processes' windows do not meet.
 */
import { describe, expect, it } from 'vitest';
import { encodeMessage, type HaMessage } from '../../src/transport/codec.ts';
import { AuthVerifier } from '../../src/transport/auth.ts';
import { initialSequence } from '../../src/transport/multicast.ts';
import { receiveDatagram, type ReceiveContext } from '../../src/transport/receive.ts';
import { TransportStats } from '../../src/transport/stats.ts';

const SELF = '10.0.0.1';
const message = (sequence: number, nodeId = SELF): HaMessage => ({
  type: 'heartbeat', role: 'primary', priority: 0, sequence, timestampMs: 1_700_000_000_000, epoch: 3, nodeId,
});

function context(sent: Set<number>, onDuplicateId: (from: string) => void): ReceiveContext {
  return {
    nodeId: SELF,
    stats: new TransportStats(),
    verifier: new AuthVerifier({ mode: 'off', keyring: null, keyId: 0, freshnessWindowMs: 0 }),
    log: null,
    sentRecently: (s) => sent.has(s),
    wallMs: () => 1_700_000_000_000,
    monotonicMs: () => 0,
    onDuplicateId,
  };
}

describe('duplicate node id on the receive path', () => {
  it('our own sequence is loopback; a foreign one with our id is reported with its source address and counted', () => {
    const reported: string[] = [];
    const ctx = context(new Set([41, 42]), (from) => reported.push(from));
    expect(receiveDatagram(ctx, encodeMessage(message(42)), { address: '10.0.0.1', port: 9999 })).toBeNull();
    expect(reported).toEqual([]);
    expect(ctx.stats.looped).toBe(1);
    expect(receiveDatagram(ctx, encodeMessage(message(7)), { address: '10.0.0.7', port: 9999 })).toBeNull();
    expect(reported).toEqual(['10.0.0.7:9999']);
    expect(ctx.stats.dropped['duplicate-node-id']).toBe(1);
    // Another node's datagram is no conflict.
    expect(receiveDatagram(ctx, encodeMessage(message(7, '10.0.0.2')), { address: '10.0.0.2', port: 9999 })).not.toBeNull();
    expect(reported).toHaveLength(1);
  });

  it('each process starts its sequence at a random uint32', () => {
    const starts = Array.from({ length: 64 }, initialSequence);
    for (const s of starts) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
    // 64 draws from 2^32 values: all distinct unless something is badly wrong.
    expect(new Set(starts).size).toBe(64);
  });
});
