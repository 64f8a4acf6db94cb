/**
 * The socket-independent transport core, driven with a hand-held socket and clock: the same
 * code the UDP transport and the simulator run.
 */
import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { createTransportCore, MAX_SILENCE_ROUNDS, RECENT_SEQUENCES, type DatagramSocket, type TransportClock } from '../../src/transport/core.ts';
import { AuthKeyring, TAGGED_SIZE } from '../../src/transport/auth.ts';
import { decodeMessage, encodeMessage, MESSAGE_SIZE } from '../../src/transport/codec.ts';
import type { SendEvent } from '../../machines/role.machine.ts';

function handClock(wallMs = 1_800_000_000_000) {
  const pending: (() => void)[] = [];
  const clock: TransportClock = {
    wallMs: () => wallMs,
    monotonicMs: () => 0,
    afterPendingIo: (fn) => {
      pending.push(fn);
      return () => pending.splice(pending.indexOf(fn) >>> 0, 1);
    },
  };
  return { clock, pending };
}

const send = (epoch = 2): SendEvent => ({ type: 'SEND', message: { type: 'heartbeat', role: 'primary', priority: 5, epoch, nodeId: '10.0.0.1' } });

function socket() {
  const sent: Uint8Array[] = [];
  const done: ((e: Error | null) => void)[] = [];
  const s: DatagramSocket = { send: (data, cb) => void (sent.push(data), done.push(cb)) };
  return { s, sent, done };
}

describe('transport core', () => {
  it('sends nothing while down; then 52-byte datagrams with the next sequence, and recognises their loopback', () => {
    const { clock } = handClock();
    const core = createTransportCore({ nodeId: '10.0.0.1', log: null, clock, startSequence: 2 ** 32 - 1 });
    const { s, sent, done } = socket();
    core.handleSend(s, send());
    expect(sent).toEqual([]);
    core.stats.up = true;
    core.handleSend(null, send());
    core.handleSend(s, send());
    expect(sent.map((d) => d.byteLength)).toEqual([MESSAGE_SIZE]);
    const m = decodeMessage(sent[0]!);
    expect(m.ok && m.message.sequence).toBe(0); // wrapped from 2^32 - 1
    expect(core.handleDatagram(sent[0]!, { address: '10.0.0.1', port: 9999 })).toBeNull();
    expect(core.stats.looped).toBe(1);
    expect(core.pendingSends).toBe(1);
    done[0]!(new Error('EHOSTUNREACH'));
    expect(core.stats.sendErrors).toBe(1);
    expect(core.pendingSends).toBe(0);
  });

  it('recognises exactly the last RECENT_SEQUENCES of its own datagrams as loopback, across the 32-bit wrap; an older one is another process', () => {
    const core = createTransportCore({ nodeId: '10.0.0.1', log: null, clock: handClock().clock, startSequence: 2 ** 32 - 100 });
    core.stats.up = true;
    const { s, sent } = socket();
    for (let i = 0; i < RECENT_SEQUENCES + 50; i++) core.handleSend(s, send());
    const from = { address: '10.0.0.1', port: 9999 };
    const conflicts: string[] = [];
    // The newest and the oldest still remembered (both after the wrap) are ours.
    core.handleDatagram(sent[sent.length - 1]!, from, (f) => conflicts.push(f));
    core.handleDatagram(sent[sent.length - RECENT_SEQUENCES]!, from, (f) => conflicts.push(f));
    expect(core.stats.looped).toBe(2);
    expect(conflicts).toEqual([]);
    // One further back (sent before the wrap) is outside the window: another live process with our id.
    core.handleDatagram(sent[sent.length - RECENT_SEQUENCES - 1]!, from, (f) => conflicts.push(f));
    expect(core.stats.dropped['duplicate-node-id']).toBe(1);
    expect(conflicts).toEqual(['10.0.0.1:9999']);
    // A sequence we have not sent yet is not ours either.
    const ahead = encodeMessage({ type: 'heartbeat', role: 'primary', priority: 5, epoch: 2, nodeId: '10.0.0.1', sequence: (2 ** 32 - 100 + RECENT_SEQUENCES + 60) >>> 0, timestampMs: 0 });
    core.handleDatagram(ahead, from, (f) => conflicts.push(f));
    expect(core.stats.dropped['duplicate-node-id']).toBe(2);
  });

  it('with auth, seals with the trailer, and a peer with the key accepts it while one flipped bit is dropped as a bad tag', () => {
    const keyring = new AuthKeyring([[1, new Uint8Array(32).fill(7)]]);
    const auth = { mode: 'enforce' as const, keyring, keyId: 1, freshnessWindowMs: 30_000 };
    const a = createTransportCore({ nodeId: '10.0.0.1', log: null, clock: handClock().clock, startSequence: 0, auth });
    const b = createTransportCore({ nodeId: '10.0.0.2', log: null, clock: handClock().clock, startSequence: 0, auth });
    const { s, sent } = socket();
    a.stats.up = true;
    a.handleSend(s, send());
    a.handleSend(s, send());
    expect(sent.map((d) => d.byteLength)).toEqual([TAGGED_SIZE, TAGGED_SIZE]);
    expect(b.handleDatagram(sent[0]!, { address: '10.0.0.1', port: 9999 })).toMatchObject({ type: 'PEER.PRIMARY', peer: { nodeId: '10.0.0.1', epoch: 2 } });
    const forged = Uint8Array.from(sent[1]!);
    forged[4]! ^= 1;
    expect(b.handleDatagram(forged, { address: '10.0.0.1', port: 9999 })).toBeNull();
    expect(b.stats.dropped).toEqual({ 'auth-bad-tag': 1 });
    expect(b.handleDatagram(encodeMessage({ type: 'heartbeat', role: 'primary', priority: 9, sequence: 1, timestampMs: 0, epoch: 9, nodeId: '10.0.0.9' }), { address: '10.0.0.9', port: 9999 })).toBeNull();
    expect(b.stats.dropped['auth-missing']).toBe(1);
  });

  it('confirms silence after one round when nothing arrived, repeats while datagrams arrive, and gives up waiting after the bound', () => {
    const { clock, pending } = handClock();
    const core = createTransportCore({ nodeId: '10.0.0.1', log: null, clock, startSequence: 0 });
    const confirmed: number[] = [];
    const parent = createActor(createMachine({ invoke: { src: core.confirmSilence }, on: { 'SILENCE.CONFIRMED': { actions: () => confirmed.push(core.stats.received) } } }));
    parent.start();
    const peer = encodeMessage({ type: 'heartbeat', role: 'primary', priority: 9, sequence: 1, timestampMs: 0, epoch: 9, nodeId: '10.0.0.9' });
    let rounds = 0;
    while (pending.length > 0 && rounds < 100) {
      core.handleDatagram(peer, { address: '10.0.0.9', port: 9999 }); // a flood: a datagram every round
      pending.shift()!();
      rounds++;
    }
    expect(rounds).toBe(MAX_SILENCE_ROUNDS + 1);
    expect(confirmed).toEqual([MAX_SILENCE_ROUNDS + 1]);
    parent.stop();

    const quiet = createTransportCore({ nodeId: '10.0.0.1', log: null, clock, startSequence: 0 });
    const quietConfirmed: string[] = [];
    const p2 = createActor(createMachine({ invoke: { src: quiet.confirmSilence }, on: { 'SILENCE.CONFIRMED': { actions: () => quietConfirmed.push('yes') } } }));
    p2.start();
    expect(pending.length).toBe(1);
    pending.shift()!();
    expect(quietConfirmed).toEqual(['yes']);
    p2.stop();
  });

  it('whenDrained fires at once when idle and otherwise when the last send completes', () => {
    const core = createTransportCore({ nodeId: '10.0.0.1', log: null, clock: handClock().clock, startSequence: 0 });
    const calls: string[] = [];
    core.whenDrained(() => calls.push('idle'));
    const { s, done } = socket();
    core.stats.up = true;
    core.handleSend(s, send());
    core.handleSend(s, send());
    core.whenDrained(() => calls.push('drained'));
    const cancelled = core.whenDrained(() => calls.push('cancelled'));
    cancelled();
    done[0]!(null);
    expect(calls).toEqual(['idle']);
    done[1]!(null);
    expect(calls).toEqual(['idle', 'drained']);
    expect(core.stats.sent).toBe(2);
  });
});
