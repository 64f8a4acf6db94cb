/**
 * Property-based tests of the farewell (`hastate farewell`, src/runtime/farewell.ts) on the
 * deterministic simulator, which runs the real role machine, transport core and epoch store:
 * - after a primary's process dies, its farewell hands over as a resign does: the best
 *   remaining node is the only primary within 2D (D: the largest network delay);
 * - a farewell for a dead standby changes nothing on any other node;
 * - a farewell for a node with a live incarnation (a restart that won the race, or a process
 *   that never died) is refused under the state file's lock and changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSimulation, type Scenario } from '../../src/testing/scenario.ts';
import { bestOf, DURATION_MS, fcParams, idOf, nodesArb, PROPERTY_TIMEOUT_MS, scenarioBase, timingArb, TRANSPORT_VARIANTS } from './arbitraries.ts';
import { assertEpochs, assertTransport, explain, MAX_DELAY_MS } from './helpers.ts';

const SETTLED_MS = 20_000;

for (const variant of TRANSPORT_VARIANTS) describe(`property: farewell${variant.label}`, () => {
  it('after the primary process dies, its farewell makes the best remaining node the only primary within 2D, and stays so', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(2, 7), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 20 }), (seed, timing, hosts, offsetMs, reapMs) => {
        const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
        const s: Scenario = scenarioBase(seed, timing, nodes, variant);
        const sim = buildSimulation(s);
        const crashAtMs = SETTLED_MS + offsetMs;
        sim.run(crashAtMs - 1);
        const [old] = sim.primaries();
        expect(old, explain(s, sim, 'no primary before the crash')).toBeDefined();
        sim.run(crashAtMs);
        sim.crash(old!.nodeId);
        // The supervisor or systemd reaps the process and sends the farewell a moment later (well within the timeout).
        const farewellAtMs = crashAtMs + Math.min(reapMs, timing.heartbeatIntervalMs);
        sim.run(farewellAtMs);
        expect(sim.farewell(old!.nodeId), explain(s, sim, 'farewell refused for a dead process')).toBe(true);
        sim.run(farewellAtMs + 2 * MAX_DELAY_MS);
        const remaining = nodes.filter((n) => n.nodeId !== old!.nodeId);
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, `after the farewell of ${old!.nodeId} at ${farewellAtMs}`)).toEqual([bestOf(remaining)]);
        sim.run(DURATION_MS);
        // As after a resign, a standby that hears the new primary's declaration before the
        // (jittered) farewell may claim too for a moment; rank settles it within the 2D above.
        expect(sim.primaries().map((n) => n.nodeId), explain(s, sim, 'later')).toEqual([bestOf(remaining)]);
        assertEpochs(s, sim);
        assertTransport(s, sim);
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('a farewell for a dead standby changes nothing on any other node', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(3, 7), fc.integer({ min: 0, max: 10_000 }), fc.nat(), (seed, timing, hosts, offsetMs, pick) => {
        const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
        const s: Scenario = scenarioBase(seed, timing, nodes, variant);
        const sim = buildSimulation(s);
        const atMs = SETTLED_MS + offsetMs;
        sim.run(atMs);
        const primary = sim.primaries()[0]!;
        const standbys = nodes.filter((n) => n.nodeId !== primary.nodeId);
        const dead = standbys[pick % standbys.length]!.nodeId;
        sim.crash(dead);
        const sent = sim.farewell(dead);
        sim.run(DURATION_MS);
        // A standby that never made an epoch durable gets no farewell at all; either way nothing moves.
        const others = sim.trace.filter((t) => t.atMs >= atMs && t.nodeId !== dead);
        expect(others, explain(s, sim, `farewell (${sent ? 'sent' : 'not sent'}) for standby ${dead} moved someone`)).toEqual([]);
        expect(sim.primaries().map((n) => n.nodeId)).toEqual([primary.nodeId]);
        assertEpochs(s, sim);
        assertTransport(s, sim);
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('a farewell for a node with a live incarnation (never died, or restarted first) is refused and changes nothing', () => {
    fc.assert(
      fc.property(fc.integer(), timingArb, nodesArb(2, 7), fc.integer({ min: 0, max: 10_000 }), fc.nat(), fc.boolean(), (seed, timing, hosts, offsetMs, pick, restarted) => {
        const nodes = hosts.map((h) => ({ nodeId: idOf(h.host), priority: h.priority, startAtMs: 0 }));
        const s: Scenario = scenarioBase(seed, timing, nodes, variant);
        const sim = buildSimulation(s);
        const atMs = SETTLED_MS + offsetMs;
        sim.run(atMs);
        const target = restarted ? sim.primaries()[0]!.nodeId : nodes[pick % nodes.length]!.nodeId;
        if (restarted) {
          // Restart= won the race against the farewell: the new incarnation holds the lock.
          sim.crash(target);
          sim.start(target);
        }
        const from = sim.trace.length;
        const before = sim.roles();
        expect(sim.farewell(target), explain(s, sim, `farewell for live ${target} was sent`)).toBe(false);
        if (!restarted) {
          sim.run(DURATION_MS);
          expect(sim.trace.slice(from), explain(s, sim, 'a refused farewell moved someone')).toEqual([]);
          expect(sim.roles()).toEqual(before);
        }
        assertEpochs(s, sim);
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});
