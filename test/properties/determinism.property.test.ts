/** Property-based test on the deterministic simulator; see README, "What the election guarantees". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outranks } from '../../machines/rank.ts';
import { buildSimulation, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import { bestOf, DURATION_MS, fcParams, PROPERTY_TIMEOUT_MS, idOf, nodesArb, scenarioBase, timingArb, TRANSPORT_VARIANTS } from './arbitraries.ts';
import { assertEpochs, assertTransport, explain, faultScheduleArb, MAX_DELAY_MS } from './helpers.ts';

for (const variant of TRANSPORT_VARIANTS) describe(`property: election determinism${variant.label}`, () => {
  it('nodes that start within one election window elect the rule\'s pick, and the same inputs give the same run', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(3, 7), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 7, maxLength: 7 }), (seed, timing, hosts, starts) => {
        const latestStart = timing.electionWindowMs - MAX_DELAY_MS - 1;
        const nodes = hosts.map((h, i) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: Math.floor(starts[i]! * latestStart) }));
        const s = scenarioBase(seed, timing, nodes, variant);
        const sim = buildSimulation(s);
        sim.run(DURATION_MS);
        const winner = bestOf(nodes);
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, `expected ${winner} alone as primary`)).toEqual([winner]);
        expect(Object.values(sim.roles()).filter((r) => r === 'standby').length).toBe(nodes.length - 1);
        // Exactly one takeover happened: nobody else was ever primary.
        expect(sim.trace.filter((t) => t.to === 'primary').map((t) => t.nodeId)).toEqual([winner]);
        assertEpochs(s, sim);
        assertTransport(s, sim);
        const again = buildSimulation(s);
        again.run(DURATION_MS);
        expect(again.trace).toEqual(sim.trace);
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});
