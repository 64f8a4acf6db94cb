/** Property-based test on the deterministic simulator; see README, "What the election guarantees". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outranks } from '../../machines/rank.ts';
import { buildSimulation, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import { bestOf, DURATION_MS, fcParams, PROPERTY_TIMEOUT_MS, idOf, nodesArb, scenarioBase, timingArb } from './arbitraries.ts';
import { assertEpochs, explain, faultScheduleArb, MAX_DELAY_MS } from './helpers.ts';

describe('property: stability', () => {
  it('with no crashes and loss that never drops more than ceil(T/I) - 2 heartbeats in a row, no role changes after convergence', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(3, 7), fc.double({ min: 0, max: 0.3, noNaN: true }), fc.array(fc.double({ min: -0.002, max: 0.002, noNaN: true }), { minLength: 7, maxLength: 7 }), (seed, timing, hosts, lossRate, skews) => {
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
  }, PROPERTY_TIMEOUT_MS);
});
