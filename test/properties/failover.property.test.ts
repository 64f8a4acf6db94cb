/** Property-based test on the deterministic simulator; see README, "What the election guarantees". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outranks } from '../../machines/rank.ts';
import { buildSimulation, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import { bestOf, DURATION_MS, fcParams, PROPERTY_TIMEOUT_MS, idOf, nodesArb, scenarioBase, timingArb, TRANSPORT_VARIANTS } from './arbitraries.ts';
import { assertEpochs, assertTransport, explain, faultScheduleArb, MAX_DELAY_MS } from './helpers.ts';

for (const variant of TRANSPORT_VARIANTS) describe(`property: failover liveness${variant.label}`, () => {
  it('when the primary crashes on a healthy network, exactly one standby (the best remaining) takes over within T + I (+ W when re-electing)', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(2, 7), fc.integer({ min: 0, max: 10_000 }), (seed, timing, hosts, crashOffsetMs) => {
        const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
        const crashAtMs = 20_000 + crashOffsetMs;
        const s: Scenario = { ...scenarioBase(seed, timing, nodes, variant), events: [{ atMs: crashAtMs, kind: 'crash-primary' }] };
        const sim = buildSimulation(s);
        sim.run(crashAtMs - 1);
        const [old] = sim.primaries();
        expect(old, explain(s, sim, 'no primary before the crash')).toBeDefined();
        sim.run(crashAtMs);
        const boundMs = timing.heartbeatTimeoutMs + timing.heartbeatIntervalMs + (nodes.length > 2 ? timing.electionWindowMs : 0);
        sim.run(crashAtMs + boundMs);
        const remaining = nodes.filter((n) => n.nodeId !== old!.nodeId);
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, `after crashing ${old!.nodeId} at ${crashAtMs}`)).toEqual([bestOf(remaining)]);
        const takeovers = sim.trace.filter((t) => t.atMs > crashAtMs && t.to === 'primary');
        expect(takeovers.length, explain(s, sim, 'more than one takeover')).toBe(1);
        sim.run(DURATION_MS);
        expect(sim.primaries().map((n) => n.nodeId)).toEqual([bestOf(remaining)]);
        assertEpochs(s, sim);
        assertTransport(s, sim);
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('when the primary resigns on a healthy network, the best other node is the only primary within 2D, and the resigner stays standby', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(2, 7), fc.integer({ min: 0, max: 10_000 }), (seed, timing, hosts, offsetMs) => {
        const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
        const atMs = 20_000 + offsetMs;
        const s: Scenario = { ...scenarioBase(seed, timing, nodes, variant), events: [{ atMs, kind: 'resign-primary' }] };
        const sim = buildSimulation(s);
        sim.run(atMs - 1);
        const old = sim.primaries()[0]!;
        sim.run(atMs);
        const others = nodes.filter((n) => n.nodeId !== old.nodeId);
        sim.run(atMs + 2 * MAX_DELAY_MS);
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, `after ${old.nodeId} resigned at ${atMs}`)).toEqual([bestOf(others)]);
        sim.run(DURATION_MS);
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, 'later')).toEqual([bestOf(others)]);
        expect(sim.node(old.nodeId).role).toBe('standby');
        assertEpochs(s, sim);
        assertTransport(s, sim);
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});
