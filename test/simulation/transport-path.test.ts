/**
 * The simulator runs the production transport core: what goes on its network are the real
 * datagrams (52 bytes, or 88 with the auth trailer), and what comes off it passes
 * receiveDatagram, auth and the drop accounting, exactly as on a UDP socket.
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, MESSAGE_SIZE } from '../../src/transport/codec.ts';
import { frameKind, TAGGED_SIZE } from '../../src/transport/auth.ts';
import { Simulation, type SimulationOptions } from '../../src/testing/index.ts';
import { SIM_WALL_EPOCH_MS } from '../../src/testing/sim-transport.ts';

const timing = { electionWindowMs: 1000, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000 };
const IDS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];

function cluster(opts: Partial<SimulationOptions> = {}) {
  const sim = new Simulation({ seed: 7, timing, ...opts });
  const wire: { from: string; data: Uint8Array; atMs: number }[] = [];
  sim.onWire = (from, data) => void wire.push({ from, data, atMs: sim.nowMs });
  IDS.forEach((id, i) => sim.addNode({ nodeId: id, priority: i }));
  return { sim, wire };
}

describe('the simulator on the real transport path', () => {
  it('auth off: 52-byte datagrams with a rising sequence and simulated wall time; every one accepted by the peers and looped back to its sender', () => {
    const { sim, wire } = cluster();
    sim.run(10_000);
    expect(sim.primaries().map((n) => n.nodeId)).toEqual(['10.0.0.3']);
    expect(wire.length).toBeGreaterThan(20);
    const lastSequence = new Map<string, number>();
    for (const { from, data } of wire) {
      expect(data.byteLength).toBe(MESSAGE_SIZE);
      const decoded = decodeMessage(data);
      if (!decoded.ok) throw new Error(decoded.detail);
      expect(decoded.message.nodeId).toBe(from);
      expect(decoded.message.timestampMs).toBeGreaterThanOrEqual(SIM_WALL_EPOCH_MS);
      const previous = lastSequence.get(from);
      if (previous !== undefined) expect(decoded.message.sequence).toBe((previous + 1) >>> 0);
      lastSequence.set(from, decoded.message.sequence);
    }
    for (const node of sim.nodes.values()) {
      const stats = node.transport!.stats;
      expect(stats.sent).toBe(wire.filter((w) => w.from === node.nodeId).length);
      expect(stats.looped).toBe(stats.sent);
      // Everything the others sent arrived (one-way delay at most 2 ms here) unless still in flight.
      const fromOthers = wire.filter((w) => w.from !== node.nodeId);
      expect(stats.accepted).toBeLessThanOrEqual(fromOthers.length);
      expect(stats.accepted).toBeGreaterThanOrEqual(fromOthers.filter((w) => w.atMs <= sim.nowMs - 2).length);
      expect(stats.droppedTotal).toBe(0);
      expect([...stats.peers.keys()].sort()).toEqual(IDS.filter((id) => id !== node.nodeId));
    }
  });

  it('auth enforce: 88-byte tagged datagrams, all verified; tampered copies are all dropped with a reason', () => {
    const { sim, wire } = cluster({ auth: { mode: 'enforce' }, faults: { tamperRate: 0.5 } });
    sim.run(20_000);
    expect(sim.primaries().map((n) => n.nodeId)).toEqual(['10.0.0.3']);
    expect(wire.every(({ data }) => data.byteLength === TAGGED_SIZE && frameKind(data).ok)).toBe(true);
    let tampered = 0;
    for (const node of sim.nodes.values()) {
      const stats = node.transport!.stats;
      tampered += node.tamperedReceived;
      expect(node.tamperedAccepted).toBe(0);
      expect(stats.authVerified).toBe(stats.accepted);
      expect(stats.accepted + stats.looped + stats.droppedTotal).toBe(stats.received);
      expect(stats.droppedTotal).toBeGreaterThanOrEqual(node.tamperedReceived);
      expect(stats.dropped['auth-bad-tag']).toBeGreaterThan(0);
    }
    expect(tampered).toBeGreaterThan(20);
    expect(sim.trace.filter((t) => t.to === 'primary').map((t) => t.nodeId)).toEqual(['10.0.0.3']);
  });

  it('auth off: the same attacker gets tampered copies believed, which is what the auth variants of the properties guard against', () => {
    const { sim } = cluster({ faults: { tamperRate: 0.5 } });
    sim.run(20_000);
    const believed = [...sim.nodes.values()].reduce((n, node) => n + node.tamperedAccepted, 0);
    expect(believed).toBeGreaterThan(0);
  });

  it('freshness is judged against the simulated wall clock: a node paused past the window drops its queued datagrams as stale', () => {
    const sim = new Simulation({ seed: 3, timing, auth: { mode: 'enforce', freshnessWindowMs: 2_000 } });
    sim.addNode({ nodeId: '10.0.0.1', priority: 1 });
    sim.addNode({ nodeId: '10.0.0.2', priority: 0 });
    sim.run(10_000);
    sim.pause('10.0.0.2', 5_000);
    sim.run(15_001);
    const stats = sim.node('10.0.0.2').transport!.stats;
    expect(stats.dropped['auth-stale']).toBeGreaterThan(0);
  });

  it('a bad scenario auth mode is refused with a message naming it', () => {
    expect(() => new Simulation({ seed: 1, timing, auth: { mode: 'strict' as 'enforce' } })).toThrow(/scenario auth\.mode must be one of off, accept-both, enforce, got "strict"/);
  });
});
