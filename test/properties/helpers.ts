import fc from 'fast-check';
import { expect } from 'vitest';
import { formatTrace, replayCommand, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import type { Simulation } from '../../src/testing/simulation.ts';
import { idOf, nodesArb, timingArb } from './arbitraries.ts';
import type { RoleTiming } from '../../machines/role.machine.ts';

export const MAX_DELAY_MS = 3; // delayMs 1 + jitter up to 2

export function explain(s: Scenario, sim: Simulation, what: string): string {
  return `${what}\nreplay: ${replayCommand(s)}\nfaults:\n  ${sim.faultLog.join('\n  ')}\ntrace:\n${formatTrace(sim)}`;
}

/** Checks that hold at every instant of every run: one node's epoch never decreases. */
export function assertEpochs(s: Scenario, sim: Simulation) {
  expect(sim.violations, explain(s, sim, 'epoch decreased')).toEqual([]);
}

/**
 * The real transport's bookkeeping on every node: each datagram received was accepted, looped
 * back or dropped; no tampered copy was accepted with auth on; honest traffic was accepted.
 */
export function assertTransport(s: Scenario, sim: Simulation) {
  let accepted = 0;
  for (const node of sim.nodes.values()) {
    const stats = node.transport?.stats;
    if (stats === undefined) continue;
    const where = `${node.nodeId}: ${JSON.stringify({ received: stats.received, accepted: stats.accepted, looped: stats.looped, dropped: stats.dropped })}`;
    expect(stats.accepted + stats.looped + stats.droppedTotal, explain(s, sim, `${where}: counts do not add up`)).toBe(stats.received);
    // A crash may cut off the loopback of its last datagram; a live node got every one back.
    if (node.alive) expect(stats.looped, explain(s, sim, `${where}: own datagrams not recognised`)).toBe(stats.sent);
    if (s.auth !== undefined && s.auth.mode !== 'off') {
      expect(node.tamperedAccepted, explain(s, sim, `${where}: accepted ${node.tamperedAccepted} of ${node.tamperedReceived} tampered copies`)).toBe(0);
      expect(stats.authVerified, explain(s, sim, `${where}: accepted unverified datagrams`)).toBe(stats.accepted);
    } else {
      expect(stats.droppedTotal, explain(s, sim, `${where}: honest datagrams dropped`)).toBe(0);
    }
    accepted += stats.accepted;
  }
  expect(accepted, explain(s, sim, 'no datagram was accepted anywhere')).toBeGreaterThan(0);
}

/** Random partitions (with bridges), one-way blocks and heals between 5 s and 40 s, then a final heal. */
export const faultScheduleArb = (ids: string[]) =>
  fc.array(
    fc.record({
      atMs: fc.integer({ min: 5_000, max: 40_000 }),
      kind: fc.constantFrom('partition', 'oneway', 'heal'),
      sideOf: fc.array(fc.constantFrom(0, 1, 2), { minLength: ids.length, maxLength: ids.length }), // 2 = bridge
      pair: fc.tuple(fc.nat(ids.length - 1), fc.nat(ids.length - 1)),
    }),
    { minLength: 1, maxLength: 4 },
  ).map((raw) =>
    raw
      .sort((a, b) => a.atMs - b.atMs)
      .map((r): ScenarioEvent => {
        if (r.kind === 'heal') return { atMs: r.atMs, kind: 'heal' };
        if (r.kind === 'oneway') return { atMs: r.atMs, kind: 'oneway', from: ids[r.pair[0]]!, to: ids[(r.pair[0] + 1 + r.pair[1]) % ids.length]! };
        const side = (k: number) => ids.filter((_, i) => r.sideOf[i] === k || r.sideOf[i] === 2);
        return { atMs: r.atMs, kind: 'partition', sides: [side(0), side(1)] };
      }),
  );


/**
 * A cluster of `min`..`max` hosts and, drawn for its node ids, the arbitraries `extra` names:
 * generates `[hosts, ...extra values]`.
 */
type Hosts = { host: number; priority: number }[];
export function clusterArb<A, B>(min: number, max: number, extra: (ids: string[]) => [fc.Arbitrary<A>, fc.Arbitrary<B>]): fc.Arbitrary<[Hosts, A, B]>;
export function clusterArb<A, B, C>(min: number, max: number, extra: (ids: string[]) => [fc.Arbitrary<A>, fc.Arbitrary<B>, fc.Arbitrary<C>]): fc.Arbitrary<[Hosts, A, B, C]>;
export function clusterArb(min: number, max: number, extra: (ids: string[]) => fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown[]> {
  return nodesArb(min, max).chain((hosts) => fc.tuple(fc.constant(hosts), ...extra(hosts.map((h) => idOf(h.host)))));
}

export interface ProcessChaos {
  atMs: number;
  kind: 'crash' | 'restart' | 'pause';
  /** Index into the node list the events are made for. */
  who: number;
  durationMs: number;
}

/** Up to `maxLength` crashes, restarts and pauses of `count` processes between `fromMs` and `toMs`. */
export const processChaosArb = (count: number, o: { fromMs: number; toMs: number; maxPauseMs: number; maxLength: number }): fc.Arbitrary<ProcessChaos[]> =>
  fc.array(
    fc.record({
      atMs: fc.integer({ min: o.fromMs, max: o.toMs }),
      kind: fc.constantFrom('crash' as const, 'restart' as const, 'pause' as const),
      who: fc.nat(count - 1),
      durationMs: fc.integer({ min: 100, max: o.maxPauseMs }),
    }),
    { maxLength: o.maxLength },
  );

/** The scenario events of `chaos` for the processes named by `nodeIds` (indexed by `who`). */
export const processChaosEvents = (chaos: readonly ProcessChaos[], nodeIds: readonly string[]): ScenarioEvent[] =>
  chaos.map((c): ScenarioEvent => {
    const nodeId = nodeIds[c.who]!;
    return c.kind === 'pause' ? { atMs: c.atMs, kind: 'pause', nodeId, durationMs: c.durationMs } : { atMs: c.atMs, kind: c.kind, nodeId };
  });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- clusterProperty's overloads carry the types
type AnyBody = (...args: any[]) => void;

/** The property of a cluster run: a simulator seed, a timing, then the cluster and what else the test draws. */
export function clusterProperty<C>(cluster: fc.Arbitrary<C>, body: (seed: number, timing: RoleTiming, cluster: C) => void): fc.IPropertyWithHooks<[number, RoleTiming, C]>;
export function clusterProperty<C, D>(cluster: fc.Arbitrary<C>, more: fc.Arbitrary<D>, body: (seed: number, timing: RoleTiming, cluster: C, more: D) => void): fc.IPropertyWithHooks<[number, RoleTiming, C, D]>;
export function clusterProperty(cluster: fc.Arbitrary<unknown>, ...rest: [AnyBody] | [fc.Arbitrary<unknown>, AnyBody]) {
  if (rest.length === 1) return fc.property(fc.integer(), timingArb, cluster, rest[0]);
  return fc.property(fc.integer(), timingArb, cluster, rest[0], rest[1]);
}
