/** Property-based test on the deterministic simulator; see README, "What the election guarantees". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outranks } from '../../machines/rank.ts';
import { buildSimulation, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import { bestOf, DURATION_MS, fcParams, PROPERTY_TIMEOUT_MS, idOf, scenarioBase } from './arbitraries.ts';
import { assertEpochs, clusterArb, clusterProperty, explain, faultScheduleArb, MAX_DELAY_MS, processChaosArb, processChaosEvents } from './helpers.ts';

/** Loss on a link is capped at this many datagrams in a row, so the shared-epoch bound can name it. */
const MAX_CONSECUTIVE_LOSS = 3;

describe('property: epochs', () => {
  it('under crashes, restarts, pauses, partitions and loss, no node\'s epoch decreases, and primaries that hear each other share an epoch for at most one interval plus one per datagram lost in a row', () => {
    fc.assert(
      clusterProperty(
        clusterArb(3, 7, (ids) => [faultScheduleArb(ids), processChaosArb(ids.length, { fromMs: 2_000, toMs: 50_000, maxPauseMs: 30_000, maxLength: 6 })]),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (seed, timing, [hosts, partitions, chaos], lossRate) => {
          const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
          const events: ScenarioEvent[] = [
            ...partitions,
            ...processChaosEvents(chaos, nodes.map((n) => n.nodeId)),
            { atMs: 52_000, kind: 'heal' as const },
          ].sort((a, b) => a.atMs - b.atMs);
          const s: Scenario = { ...scenarioBase(seed, timing, nodes), events, faults: { delayMs: 1, jitterMs: 2, lossRate, maxConsecutiveLoss: MAX_CONSECUTIVE_LOSS } };
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
                // Each hears the other's next heartbeat within one interval, unless loss takes it:
                // then within one more interval per datagram lost in a row.
                expect(t - since, explain(s, sim, `${a.nodeId} and ${b.nodeId} both primary with epoch ${a.epoch} while connected since ${since}`)).toBeLessThanOrEqual(
                  (MAX_CONSECUTIVE_LOSS + 1) * timing.heartbeatIntervalMs + 2 * MAX_DELAY_MS,
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
  }, PROPERTY_TIMEOUT_MS);
});
