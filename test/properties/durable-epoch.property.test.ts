/**
 * Property on the deterministic simulator, whose nodes keep their epoch with the real store
 * code on an in-memory disk that outlives their crashes: across crashes and restarts with
 * fresh processes (stale locks included), no node ever leads at an epoch at or below one it
 * made durable before, and no primary puts an epoch on the wire before it is durable (the
 * simulator records both as violations). Ends with the scenario: every node dies, one
 * restarts alone, and it leads above every epoch it ever held or saw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSimulation, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import { LeaseSimulation } from '../../src/testing/lease-simulation.ts';
import { DURATION_MS, fcParams, idOf, PROPERTY_TIMEOUT_MS, scenarioBase } from './arbitraries.ts';
import { assertEpochs, clusterArb, clusterProperty, explain, faultScheduleArb } from './helpers.ts';

const ALL_DOWN_MS = DURATION_MS - 15_000;
const LONE_RESTART_MS = ALL_DOWN_MS + 1_000;

describe('property: durable epoch', () => {
  it('across crashes and fresh restarts no node leads at or below an epoch it made durable, and a node restarted alone leads above all it knew', () => {
    fc.assert(
      clusterProperty(
        clusterArb(2, 5, (ids) => [
          faultScheduleArb(ids),
          fc.array(
            fc.record({
              atMs: fc.integer({ min: 1_000, max: ALL_DOWN_MS - 1_000 }),
              kind: fc.constantFrom('crash' as const, 'restart' as const, 'crash-primary' as const, 'restart' as const),
              who: fc.nat(ids.length - 1),
            }),
            { maxLength: 12 },
          ),
          fc.nat(ids.length - 1),
        ]),
        (seed, timing, [hosts, partitions, chaos, lone]) => {
          const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
          const loneId = nodes[lone]!.nodeId;
          const events: ScenarioEvent[] = [
            ...partitions.filter((p) => p.atMs < ALL_DOWN_MS),
            ...chaos.map((c): ScenarioEvent => (c.kind === 'crash-primary' ? { atMs: c.atMs, kind: 'crash-primary' } : { atMs: c.atMs, kind: c.kind, nodeId: nodes[c.who]!.nodeId })),
            { atMs: ALL_DOWN_MS - 1, kind: 'heal' as const },
            ...nodes.map((n): ScenarioEvent => ({ atMs: ALL_DOWN_MS, kind: 'crash', nodeId: n.nodeId })),
            { atMs: LONE_RESTART_MS, kind: 'restart', nodeId: loneId } satisfies ScenarioEvent,
          ].sort((a, b) => a.atMs - b.atMs);
          const s: Scenario = { ...scenarioBase(seed, timing, nodes), events, faults: { delayMs: 1, jitterMs: 2, lossRate: 0.05 } };
          const sim = buildSimulation(s);
          sim.run(ALL_DOWN_MS - 1);
          // Everything the lone node held or saw before the end: the epoch in each of its trace entries.
          const known = Math.max(0, ...sim.trace.filter((t) => t.nodeId === loneId).map((t) => t.epoch));
          sim.run(DURATION_MS);
          assertEpochs(s, sim);
          // Per node, the epochs it led at only ever grow, across incarnations.
          for (const n of nodes) {
            const led = sim.trace.filter((t) => t.nodeId === n.nodeId && t.to === 'primary').map((t) => t.epoch);
            for (let i = 1; i < led.length; i++) expect(led[i], explain(s, sim, `${n.nodeId} led at ${led[i]} after ${led[i - 1]}`)).toBeGreaterThan(led[i - 1]!);
          }
          const after = sim.trace.filter((t) => t.nodeId === loneId && t.atMs >= LONE_RESTART_MS && t.to === 'primary');
          expect(after.length, explain(s, sim, `${loneId} did not lead after restarting alone`)).toBeGreaterThan(0);
          expect(after[0]!.epoch, explain(s, sim, `${loneId} led at ${after[0]!.epoch} after restarting alone, knowing ${known}`)).toBeGreaterThan(known);
        },
      ),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('property: durable epoch on a lease backend', () => {
  const timing = { ttlMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 };
  const END_MS = 20_000;
  const ALL_DOWN = 14_000;

  it('with the coordinator losing its token counter, no node leads at or below an epoch it made durable, and a node restarted alone leads above all it knew', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 2, max: 4 }),
        fc.array(
          fc.record({ atMs: fc.integer({ min: 500, max: ALL_DOWN - 500 }), kind: fc.constantFrom('crash' as const, 'restart' as const, 'lose-counter' as const), who: fc.nat(3) }),
          { maxLength: 10 },
        ),
        fc.nat(3),
        (seed, count, faults, lone) => {
          const sim = new LeaseSimulation({ seed, timing, maxLatencyMs: 10, loss: 0.05 });
          const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
          for (const id of ids) sim.addNode(id);
          for (const f of faults) {
            const id = ids[f.who % count]!;
            if (f.kind === 'crash') sim.at(f.atMs, `crash ${id}`, () => sim.crash(id));
            else if (f.kind === 'restart') sim.at(f.atMs, `restart ${id}`, () => sim.start(id));
            else sim.at(f.atMs, 'coordinator loses its counter', () => sim.loseCounter());
          }
          const loneId = ids[lone % count]!;
          const led = new Map<string, number[]>(ids.map((id) => [id, []]));
          let known = 0;
          const check = () => {
            for (const n of sim.nodes.values()) {
              if (n.actor === null || n.role !== 'primary') continue;
              const list = led.get(n.nodeId)!;
              if (list.at(-1) !== n.epoch) list.push(n.epoch);
            }
          };
          sim.at(ALL_DOWN, 'everyone dies, the coordinator loses its counter', () => {
            known = sim.nodes.get(loneId)!.epoch;
            for (const id of ids) sim.crash(id);
            sim.loseCounter();
          });
          sim.at(ALL_DOWN + 500, `restart ${loneId} alone`, () => sim.start(loneId));
          sim.run(END_MS, check);
          const why = `seed ${seed}; faults:\n${sim.faultLog.join('\n')}\nviolations:\n${sim.violations.join('\n')}`;
          expect(sim.violations, why).toEqual([]);
          for (const [id, epochs] of led) for (let i = 1; i < epochs.length; i++) expect(epochs[i], `${id} led at ${epochs.join(', ')}; ${why}`).toBeGreaterThan(epochs[i - 1]!);
          const last = sim.nodes.get(loneId)!;
          expect(last.role, why).toBe('primary');
          expect(last.epoch, why).toBeGreaterThan(known);
        },
      ),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});
