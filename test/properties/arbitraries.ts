import fc from 'fast-check';
import { best } from '../../machines/rank.ts';
import type { RoleTiming } from '../../machines/role.machine.ts';
import type { Scenario, ScenarioNode } from '../../src/testing/scenario.ts';

/** Runs per property: CI default, raised by HASTATE_SOAK for nightly runs. */
export const SOAK = process.env.HASTATE_SOAK !== undefined && process.env.HASTATE_SOAK !== '0';
export const RUNS = Number(process.env.HASTATE_PROPERTY_RUNS ?? (SOAK ? 2000 : 160));
/** Wall-clock limit per property: generous, since CI machines are noisy; the README reports real figures. */
export const PROPERTY_TIMEOUT_MS = SOAK ? 6 * 3_600_000 : 300_000;
/** Simulated length of each run. */
export const DURATION_MS = SOAK ? 300_000 : 60_000;

/**
 * fast-check parameters. CI uses a fixed seed so a red run is reproducible by re-running;
 * HASTATE_FC_SEED / HASTATE_FC_PATH replay a reported counterexample; soak runs use fresh seeds.
 */
export function fcParams(): fc.Parameters<unknown> {
  const seed = process.env.HASTATE_FC_SEED;
  const path = process.env.HASTATE_FC_PATH;
  return {
    numRuns: RUNS,
    ...(seed !== undefined ? { seed: Number(seed) } : SOAK ? {} : { seed: 20261122 }),
    ...(path !== undefined ? { path, endOnFailure: true } : {}),
  };
}

export const timingArb: fc.Arbitrary<RoleTiming> = fc
  .record({
    intervalMs: fc.constantFrom(1000, 3000),
    timeoutFactor: fc.constantFrom(3, 4, 5),
    windowFactor: fc.constantFrom(0.5, 1, 2 / 3),
  })
  .map(({ intervalMs, timeoutFactor, windowFactor }) => ({
    heartbeatIntervalMs: intervalMs,
    heartbeatTimeoutMs: intervalMs * timeoutFactor,
    electionWindowMs: Math.round(intervalMs * windowFactor),
  }));

/** Distinct IPv4 node ids with small priorities, so ties on priority are common. */
export const nodesArb = (min: number, max: number) =>
  fc.uniqueArray(fc.record({ host: fc.integer({ min: 1, max: 254 }), priority: fc.integer({ min: 0, max: 3 }) }), {
    selector: (n) => n.host,
    minLength: min,
    maxLength: max,
  });

export const idOf = (host: number) => `10.0.0.${host}`;

export function bestOf(nodes: readonly { nodeId: string; priority: number }[]): string {
  return best(nodes).nodeId;
}

/**
 * The transport configurations the main properties run under, at the same number of runs:
 * ha.auth off, and enforce (one shared key, 30 s freshness window on the simulated wall clock)
 * with an on-path attacker adding a tampered copy (a flipped bit, or a false primary claim at
 * the highest priority) of 2% of the datagrams. Both run on the same reordering links (2 ms
 * jitter): the replay window (src/transport/replay-window.ts) accepts a datagram overtaken by a
 * later one of its sender once, so a resign's burst still hands over within 2D.
 */
export interface TransportVariant {
  /** Appended to the property's name; empty for the default, so its name stays as it was. */
  label: string;
  auth?: Scenario['auth'];
  tamperRate: number;
}
export const TRANSPORT_VARIANTS: readonly TransportVariant[] = [
  { label: '', tamperRate: 0 },
  { label: ' [ha.auth enforce, tampered copies]', auth: { mode: 'enforce' }, tamperRate: 0.02 },
];

export function scenarioBase(seed: number, timing: RoleTiming, nodes: ScenarioNode[], variant: TransportVariant = TRANSPORT_VARIANTS[0]!): Scenario {
  return {
    seed,
    timing,
    nodes,
    events: [],
    durationMs: DURATION_MS,
    faults: { delayMs: 1, jitterMs: 2, ...(variant.tamperRate > 0 ? { tamperRate: variant.tamperRate } : {}) },
    ...(variant.auth ? { auth: variant.auth } : {}),
  };
}
