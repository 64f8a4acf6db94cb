/** Property-based test on the deterministic simulator; see README, "What the election guarantees". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outranks } from '../../machines/rank.ts';
import { buildSimulation, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import { bestOf, DURATION_MS, fcParams, PROPERTY_TIMEOUT_MS, idOf, nodesArb, scenarioBase, timingArb, TRANSPORT_VARIANTS } from './arbitraries.ts';
import { assertEpochs, assertTransport, explain, faultScheduleArb, MAX_DELAY_MS } from './helpers.ts';

for (const variant of TRANSPORT_VARIANTS) describe(`property: split-brain resolution${variant.label}`, () => {
  it('after the last partition heals, exactly one primary remains within 2I + 2D, and it is the best of those that were primary', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        timingArb,
        nodesArb(2, 7).chain((hosts) => fc.tuple(fc.constant(hosts), faultScheduleArb(hosts.map((h) => idOf(h.host))))),
        fc.integer({ min: 40_000, max: 45_000 }),
        (seed, timing, [hosts, events], healAtMs) => {
          const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
          const s: Scenario = { ...scenarioBase(seed, timing, nodes, variant), events: [...events, { atMs: healAtMs, kind: 'heal' }] };
          const sim = buildSimulation(s);
          sim.run(healAtMs);
          const primariesAtHeal = sim.primaries().map((n) => n.nodeId);
          const epochsAtHeal = sim.primaries().map((n) => ({ nodeId: n.nodeId, epoch: n.epoch }));
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
          // Fencing: the survivor's epoch is above every epoch another primary held after the heal.
          const otherTerms = [
            ...epochsAtHeal,
            ...sim.trace.filter((t) => t.atMs >= healAtMs && t.to === 'primary').map((t) => ({ nodeId: t.nodeId, epoch: t.epoch })),
          ].filter((t) => t.nodeId !== survivor.nodeId);
          for (const t of otherTerms) {
            expect(survivor.epoch, explain(s, sim, `${survivor.nodeId} kept epoch ${survivor.epoch} although ${t.nodeId} was primary at epoch ${t.epoch}`)).toBeGreaterThan(t.epoch);
          }
          assertEpochs(s, sim);
          assertTransport(s, sim);
        assertTransport(s, sim);
        },
      ),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});
