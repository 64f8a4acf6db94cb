import fc from 'fast-check';
import { expect } from 'vitest';
import { formatTrace, replayCommand, type Scenario, type ScenarioEvent } from '../../src/testing/scenario.ts';
import type { Simulation } from '../../src/testing/simulation.ts';

export const MAX_DELAY_MS = 3; // delayMs 1 + jitter up to 2

export function explain(s: Scenario, sim: Simulation, what: string): string {
  return `${what}\nreplay: ${replayCommand(s)}\nfaults:\n  ${sim.faultLog.join('\n  ')}\ntrace:\n${formatTrace(sim)}`;
}

/** Checks that hold at every instant of every run: one node's epoch never decreases. */
export function assertEpochs(s: Scenario, sim: Simulation) {
  expect(sim.violations, explain(s, sim, 'epoch decreased')).toEqual([]);
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

