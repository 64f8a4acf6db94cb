/** Property-based test on the deterministic simulator; see README, "What the election guarantees". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outranks } from '../../machines/rank.ts';
import { buildSimulation, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import { bestOf, DURATION_MS, fcParams, PROPERTY_TIMEOUT_MS, idOf, nodesArb, scenarioBase, timingArb } from './arbitraries.ts';
import { assertEpochs, explain, faultScheduleArb, MAX_DELAY_MS } from './helpers.ts';

describe('property: pauses', () => {
  it('a standby paused for longer than the timeout, with heartbeats queued for it, does not take over from a live primary', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(3, 7), fc.nat(6), fc.double({ min: 1.01, max: 5, noNaN: true }), (seed, timing, hosts, who, factor) => {
        const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
        const pauseMs = Math.round(timing.heartbeatTimeoutMs * factor);
        const s: Scenario = { ...scenarioBase(seed, timing, nodes), events: [{ atMs: 20_000, kind: 'pause-standby', index: who, durationMs: pauseMs }] };
        const sim = buildSimulation(s);
        sim.run(20_000);
        const primary = sim.primaries()[0]!;
        const victim = [...sim.nodes.values()].find((n) => n.paused)?.nodeId;
        expect(victim, explain(s, sim, 'no standby was paused')).toBeDefined();
        sim.run(DURATION_MS);
        expect(sim.trace.filter((t) => t.atMs > 20_000), explain(s, sim, `${victim} paused ${pauseMs} ms`)).toEqual([]);
        expect(sim.primaries().map((n) => n.nodeId)).toEqual([primary.nodeId]);
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});
