/**
 * Property-based tests of the election on the deterministic simulator. Each property states
 * a guarantee from the README in terms of interval (I), timeout (T), election window (W)
 * and the maximum one-way delay (D).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outranks } from '../../machines/rank.ts';
import { buildSimulation, formatTrace, replayCommand, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import type { Simulation } from '../../src/testing/simulation.ts';
import { bestOf, DURATION_MS, fcParams, idOf, nodesArb, scenarioBase, timingArb } from './arbitraries.ts';

const MAX_DELAY_MS = 3; // delayMs 1 + jitter up to 2

function explain(s: Scenario, sim: Simulation, what: string): string {
  return `${what}\nreplay: ${replayCommand(s)}\nfaults:\n  ${sim.faultLog.join('\n  ')}\ntrace:\n${formatTrace(sim)}`;
}

/** Checks that hold at every instant of every run: one node's epoch never decreases. */
function assertEpochs(s: Scenario, sim: Simulation) {
  expect(sim.violations, explain(s, sim, 'epoch decreased')).toEqual([]);
}

describe('property: election determinism', () => {
  it('nodes that start within one election window elect the rule\'s pick, and the same inputs give the same run', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(3, 7), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 7, maxLength: 7 }), (seed, timing, hosts, starts) => {
        const latestStart = timing.electionWindowMs - MAX_DELAY_MS - 1;
        const nodes = hosts.map((h, i) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: Math.floor(starts[i]! * latestStart) }));
        const s = scenarioBase(seed, timing, nodes);
        const sim = buildSimulation(s);
        sim.run(DURATION_MS);
        const winner = bestOf(nodes);
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, `expected ${winner} alone as primary`)).toEqual([winner]);
        expect(Object.values(sim.roles()).filter((r) => r === 'standby').length).toBe(nodes.length - 1);
        // Exactly one takeover happened: nobody else was ever primary.
        expect(sim.trace.filter((t) => t.to === 'primary').map((t) => t.nodeId)).toEqual([winner]);
        assertEpochs(s, sim);
        const again = buildSimulation(s);
        again.run(DURATION_MS);
        expect(again.trace).toEqual(sim.trace);
      }),
      fcParams(),
    );
  });

  it('with preempt on, any start order and start times end with the rule\'s pick as the only primary', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(2, 7), fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 7, maxLength: 7 }), (seed, timing, hosts, starts) => {
        const nodes = hosts.map((h, i) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: starts[i]!, preempt: true }));
        const s = scenarioBase(seed, timing, nodes);
        const sim = buildSimulation(s);
        sim.run(DURATION_MS);
        const winner = bestOf(nodes);
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, `expected ${winner}`)).toEqual([winner]);
        assertEpochs(s, sim);
      }),
      fcParams(),
    );
  });
});

/** Random partitions (with bridges), one-way blocks and heals between 5 s and 40 s, then a final heal. */
const faultScheduleArb = (ids: string[]) =>
  fc.array(
    fc.record({
      atMs: fc.integer({ min: 5_000, max: 40_000 }),
      kind: fc.constantFrom('partition', 'oneway', 'heal'),
      sideOf: fc.array(fc.constantFrom(0, 1, 2), { minLength: ids.length, maxLength: ids.length }), // 2 = bridge
      pair: fc.tuple(fc.nat(ids.length - 1), fc.nat(ids.length - 1)),
    }),
    { minLength: 1, maxLength: 4 },
  ).map((raw) =>
    raw
      .sort((a, b) => a.atMs - b.atMs)
      .map((r): ScenarioEvent => {
        if (r.kind === 'heal') return { atMs: r.atMs, kind: 'heal' };
        if (r.kind === 'oneway') return { atMs: r.atMs, kind: 'oneway', from: ids[r.pair[0]]!, to: ids[(r.pair[0] + 1 + r.pair[1]) % ids.length]! };
        const side = (k: number) => ids.filter((_, i) => r.sideOf[i] === k || r.sideOf[i] === 2);
        return { atMs: r.atMs, kind: 'partition', sides: [side(0), side(1)] };
      }),
  );

describe('property: split-brain resolution', () => {
  it('after the last partition heals, exactly one primary remains within 2I + 2D, and it is the best of those that were primary', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        timingArb,
        nodesArb(2, 7).chain((hosts) => fc.tuple(fc.constant(hosts), faultScheduleArb(hosts.map((h) => idOf(h.host))))),
        fc.integer({ min: 40_000, max: 45_000 }),
        (seed, timing, [hosts, events], healAtMs) => {
          const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
          const s: Scenario = { ...scenarioBase(seed, timing, nodes), events: [...events, { atMs: healAtMs, kind: 'heal' }] };
          const sim = buildSimulation(s);
          sim.run(healAtMs);
          const primariesAtHeal = sim.primaries().map((n) => n.nodeId);
          const boundMs = 2 * timing.heartbeatIntervalMs + 2 * MAX_DELAY_MS;
          sim.run(healAtMs + boundMs);
          const survivors = sim.primaries();
          expect(survivors.length, explain(s, sim, `primaries at heal: ${primariesAtHeal}; after ${boundMs} ms: ${survivors.map((n) => n.nodeId)}`)).toBe(1);
          const survivor = survivors[0]!;
          sim.run(DURATION_MS);
          // It stays, and nobody else is primary after the bound.
          expect(sim.trace.filter((t) => t.atMs > healAtMs + boundMs && (t.to === 'primary' || t.from === 'primary')), explain(s, sim, 'role change after convergence')).toEqual([]);
          // The one that remains is the best of every node that was primary after the heal.
          const wasPrimary = new Set([...primariesAtHeal, ...sim.trace.filter((t) => t.atMs >= healAtMs && t.to === 'primary').map((t) => t.nodeId)]);
          for (const id of wasPrimary) {
            if (id === survivor.nodeId) continue;
            const other = nodes.find((n) => n.nodeId === id)!;
            const me = nodes.find((n) => n.nodeId === survivor.nodeId)!;
            expect(outranks(me, other), explain(s, sim, `${survivor.nodeId} survived although ${id} outranks it`)).toBe(true);
          }
          assertEpochs(s, sim);
        },
      ),
      fcParams(),
    );
  });
});

describe('property: failover liveness', () => {
  it('when the primary crashes on a healthy network, exactly one standby (the best remaining) takes over within T + I (+ W when re-electing)', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(2, 7), fc.integer({ min: 0, max: 10_000 }), (seed, timing, hosts, crashOffsetMs) => {
        const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
        const s = scenarioBase(seed, timing, nodes);
        const sim = buildSimulation(s);
        const crashAtMs = 20_000 + crashOffsetMs;
        sim.run(crashAtMs);
        const [old] = sim.primaries();
        expect(old, explain(s, sim, 'no primary before the crash')).toBeDefined();
        sim.crash(old!.nodeId);
        const boundMs = timing.heartbeatTimeoutMs + timing.heartbeatIntervalMs + (nodes.length > 2 ? timing.electionWindowMs : 0);
        sim.run(crashAtMs + boundMs);
        const remaining = nodes.filter((n) => n.nodeId !== old!.nodeId);
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, `after crashing ${old!.nodeId} at ${crashAtMs}`)).toEqual([bestOf(remaining)]);
        const takeovers = sim.trace.filter((t) => t.atMs > crashAtMs && t.to === 'primary');
        expect(takeovers.length, explain(s, sim, 'more than one takeover')).toBe(1);
        sim.run(DURATION_MS);
        expect(sim.primaries().map((n) => n.nodeId)).toEqual([bestOf(remaining)]);
        assertEpochs(s, sim);
      }),
      fcParams(),
    );
  });
});

describe('property: stability', () => {
  it('with no crashes and loss that never drops more than ceil(T/I) - 2 heartbeats in a row, no role changes after convergence', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(2, 7), fc.double({ min: 0, max: 0.3, noNaN: true }), fc.array(fc.double({ min: -0.002, max: 0.002, noNaN: true }), { minLength: 7, maxLength: 7 }), (seed, timing, hosts, lossRate, skews) => {
        const maxConsecutiveLoss = Math.ceil(timing.heartbeatTimeoutMs / timing.heartbeatIntervalMs) - 2;
        const nodes = hosts.map((h, i) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0, clockRate: 1 + skews[i]! }));
        const s: Scenario = { ...scenarioBase(seed, timing, nodes), faults: { delayMs: 1, jitterMs: 2, lossRate, maxConsecutiveLoss } };
        const sim = buildSimulation(s);
        const convergedByMs = timing.electionWindowMs + timing.heartbeatTimeoutMs + 3 * timing.heartbeatIntervalMs;
        sim.run(DURATION_MS);
        expect(sim.trace.filter((t) => t.atMs > convergedByMs), explain(s, sim, `role change after ${convergedByMs} ms at loss ${lossRate}`)).toEqual([]);
        expect(sim.primaries().length).toBe(1);
        assertEpochs(s, sim);
      }),
      fcParams(),
    );
  });
});

describe('property: epochs', () => {
  it('under crashes, restarts, pauses, partitions and loss, no node\'s epoch decreases, and primaries that hear each other never share an epoch after one interval', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        timingArb,
        nodesArb(2, 7).chain((hosts) => {
          const ids = hosts.map((h) => idOf(h.host));
          const chaos = fc.array(
            fc.record({
              atMs: fc.integer({ min: 2_000, max: 50_000 }),
              kind: fc.constantFrom('crash', 'restart', 'pause'),
              who: fc.nat(ids.length - 1),
              durationMs: fc.integer({ min: 100, max: 30_000 }),
            }),
            { maxLength: 6 },
          );
          return fc.tuple(fc.constant(hosts), faultScheduleArb(ids), chaos);
        }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (seed, timing, [hosts, partitions, chaos], lossRate) => {
          const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
          const events: ScenarioEvent[] = [
            ...partitions,
            ...chaos.map((c): ScenarioEvent => {
              const nodeId = nodes[c.who]!.nodeId;
              return c.kind === 'pause' ? { atMs: c.atMs, kind: 'pause', nodeId, durationMs: c.durationMs } : { atMs: c.atMs, kind: c.kind, nodeId };
            }),
            { atMs: 52_000, kind: 'heal' as const },
          ].sort((a, b) => a.atMs - b.atMs);
          const s: Scenario = { ...scenarioBase(seed, timing, nodes), events, faults: { delayMs: 1, jitterMs: 2, lossRate } };
          const sim = buildSimulation(s);
          // Sample the cluster often enough to catch overlaps.
          const stepMs = timing.heartbeatIntervalMs / 4;
          const sharedSince = new Map<string, number>();
          for (let t = 0; t <= DURATION_MS; t += stepMs) {
            sim.run(t);
            const primaries = sim.primaries();
            const seen = new Set<string>();
            for (const a of primaries) {
              for (const b of primaries) {
                if (a.nodeId >= b.nodeId || a.epoch !== b.epoch) continue;
                if (!sim.topology.canDeliver(a.nodeId, b.nodeId) || !sim.topology.canDeliver(b.nodeId, a.nodeId) || a.paused || b.paused) continue;
                const key = `${a.nodeId}|${b.nodeId}|${a.epoch}`;
                seen.add(key);
                const since = sharedSince.get(key) ?? t;
                sharedSince.set(key, since);
                expect(t - since, explain(s, sim, `${a.nodeId} and ${b.nodeId} both primary with epoch ${a.epoch} while connected since ${since}`)).toBeLessThanOrEqual(
                  timing.heartbeatIntervalMs + 2 * MAX_DELAY_MS,
                );
              }
            }
            for (const k of [...sharedSince.keys()]) if (!seen.has(k)) sharedSince.delete(k);
          }
          assertEpochs(s, sim);
        },
      ),
      fcParams(),
    );
  });
});

describe('property: pauses', () => {
  it('a standby paused for longer than the timeout, with heartbeats queued for it, does not take over from a live primary', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(2, 7), fc.nat(6), fc.double({ min: 1.01, max: 5, noNaN: true }), (seed, timing, hosts, who, factor) => {
        const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
        const s = scenarioBase(seed, timing, nodes);
        const sim = buildSimulation(s);
        sim.run(20_000);
        const primary = sim.primaries()[0]!;
        const standbys = nodes.filter((n) => n.nodeId !== primary.nodeId);
        const victim = standbys[who % standbys.length]!.nodeId;
        const pauseMs = Math.round(timing.heartbeatTimeoutMs * factor);
        sim.pause(victim, pauseMs);
        sim.run(DURATION_MS);
        expect(sim.trace.filter((t) => t.atMs > 20_000), explain(s, sim, `${victim} paused ${pauseMs} ms`)).toEqual([]);
        expect(sim.primaries().map((n) => n.nodeId)).toEqual([primary.nodeId]);
      }),
      fcParams(),
    );
  });
});
