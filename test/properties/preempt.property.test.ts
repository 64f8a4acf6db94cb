/** Property-based test on the deterministic simulator; see README, "What the election guarantees". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outranks } from '../../machines/rank.ts';
import { buildSimulation, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import { bestOf, DURATION_MS, fcParams, PROPERTY_TIMEOUT_MS, idOf, nodesArb, scenarioBase, timingArb } from './arbitraries.ts';
import { assertEpochs, explain, faultScheduleArb, MAX_DELAY_MS } from './helpers.ts';

describe('property: election determinism with preempt', () => {
  it('with preempt on, any start order and start times end with the rule\'s pick as the only primary', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(3, 7), fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 7, maxLength: 7 }), (seed, timing, hosts, starts) => {
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
  }, PROPERTY_TIMEOUT_MS);
});
