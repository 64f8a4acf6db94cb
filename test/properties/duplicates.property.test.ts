/**
 * Property over every fault schedule, with a second process that uses another node's id (a
 * copy-pasted config) starting, and possibly crashing, at random times:
 *  - only a takeover raises an epoch, never the mere passing of heartbeats: at every instant
 *    no node's epoch exceeds the number of takeovers (a node entering primary, or re-asserting
 *    over a rival primary that cannot hear it) plus the other role changes the cluster has
 *    seen. Those count because a primary whose term ends (yield, crash, fault) leaves the
 *    survivor to move above it, and a node entering standby declares the newest term it
 *    knows, which a primary that never heard it moves above once. What breaks the bound is a
 *    node raising its epoch while no role changes: the storm of two primaries pushing each
 *    other's terms through a common standby, or twins sharing one id;
 *  - twins that hear each other are not primary, once one detection bound has passed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSimulation, type Scenario, type ScenarioEvent, type ScenarioNode } from '../../src/testing/scenario.ts';
import type { Simulation } from '../../src/testing/simulation.ts';
import { DURATION_MS, fcParams, PROPERTY_TIMEOUT_MS, idOf, scenarioBase } from './arbitraries.ts';
import { assertEpochs, clusterArb, clusterProperty, explain, faultScheduleArb, MAX_DELAY_MS, processChaosArb, processChaosEvents } from './helpers.ts';

/** Losses in a row are capped so that "the twins hear each other" has a bound. */
const MAX_CONSECUTIVE_LOSS = 3;

/**
 * Every epoch in the trace, checked against the takeovers and role changes before it (or
 * with it). See the header for why role changes count.
 */
function checkEpochsAgainstTakeovers(s: Scenario, sim: Simulation): void {
  let takeovers = 0;
  let roleChanges = 0;
  for (const t of sim.trace) {
    if (t.to === 'primary' && t.from !== 'primary') takeovers++;
    // It hears a rival primary that cannot hear it (a one-way fault): it takes over the rival's term.
    if (t.from === 'primary' && t.to === 'primary' && t.reason.startsWith('re-asserted over primary')) takeovers++;
    if (t.from !== t.to && t.to !== 'primary') roleChanges++;
    const bound = takeovers + roleChanges;
    expect(t.epoch, explain(s, sim, `${t.nodeId} at epoch ${t.epoch} at ${t.atMs} ms after ${takeovers} takeovers and ${roleChanges} other role changes`)).toBeLessThanOrEqual(bound);
  }
}

/** Twins: live, running processes with one wire id that can hear each other both ways. */
function connectedTwins(sim: Simulation): Map<string, string[]> {
  const byId = new Map<string, string[]>();
  for (const n of sim.nodes.values()) {
    if (!n.alive || n.paused) continue;
    byId.set(n.wireId, [...(byId.get(n.wireId) ?? []), n.nodeId]);
  }
  const out = new Map<string, string[]>();
  for (const [id, names] of byId) {
    if (names.length < 2) continue;
    const [a, b] = names as [string, string];
    if (sim.topology.canDeliver(a, b) && sim.topology.canDeliver(b, a)) out.set(id, names);
  }
  return out;
}

describe('property: duplicate node ids and epochs', () => {
  it('under every fault schedule with a twin process, epochs grow only with takeovers and connected twins are never primary', () => {
    fc.assert(
      clusterProperty(
        clusterArb(2, 5, (ids) => [
          fc.record({
            of: fc.nat(ids.length - 1),
            startAtMs: fc.integer({ min: 0, max: 30_000 }),
            crashAtMs: fc.option(fc.integer({ min: 5_000, max: 50_000 }), { nil: undefined }),
          }),
          // The twin is a process too: one more to crash, restart and pause.
          processChaosArb(ids.length + 1, { fromMs: 2_000, toMs: 50_000, maxPauseMs: 20_000, maxLength: 5 }),
        ]).chain(([hosts, twin, chaos]) => {
          const twinName = `${idOf(hosts[twin.of]!.host)}/twin`;
          return fc.tuple(fc.constant(hosts), fc.constant(twin), fc.constant(chaos), faultScheduleArb([...hosts.map((h) => idOf(h.host)), twinName]));
        }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (seed, timing, [hosts, twin, chaos, partitions], lossRate) => {
          const nodes: ScenarioNode[] = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
          const original = nodes[twin.of]!;
          const twinNode: ScenarioNode = { nodeId: `${original.nodeId}/twin`, wireId: original.nodeId, priority: original.priority, startAtMs: twin.startAtMs };
          const all = [...nodes, twinNode];
          const events: ScenarioEvent[] = [
            ...partitions,
            ...processChaosEvents(chaos, all.map((n) => n.nodeId)),
            ...(twin.crashAtMs !== undefined && twin.crashAtMs > twin.startAtMs ? [{ atMs: twin.crashAtMs, kind: 'crash' as const, nodeId: twinNode.nodeId }] : []),
            { atMs: 52_000, kind: 'heal' as const },
          ].sort((a, b) => a.atMs - b.atMs);
          const s: Scenario = {
            ...scenarioBase(seed, timing, all),
            events,
            faults: { delayMs: 1, jitterMs: 2, lossRate, maxConsecutiveLoss: MAX_CONSECUTIVE_LOSS },
          };
          const sim = buildSimulation(s);
          // A twin that starts electing may miss the other's beats for MAX_CONSECUTIVE_LOSS
          // intervals and win its window; the next datagram either way ends that.
          const boundMs = timing.electionWindowMs + (MAX_CONSECUTIVE_LOSS + 2) * timing.heartbeatIntervalMs + 4 * MAX_DELAY_MS;
          const stepMs = timing.heartbeatIntervalMs / 4;
          const since = new Map<string, number>();
          for (let t = 0; t <= DURATION_MS; t += stepMs) {
            sim.run(t);
            const twins = connectedTwins(sim);
            for (const id of [...since.keys()]) if (!twins.has(id)) since.delete(id);
            for (const [id, names] of twins) {
              const from = since.get(id) ?? t;
              since.set(id, from);
              if (t - from <= boundMs) continue;
              const primaries = names.filter((n) => sim.node(n).role === 'primary');
              expect(primaries, explain(s, sim, `twins ${names.join(', ')} connected since ${from} ms; primary at ${t} ms`)).toEqual([]);
            }
          }
          assertEpochs(s, sim);
          checkEpochsAgainstTakeovers(s, sim);
        },
      ),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});
