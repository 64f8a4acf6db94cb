/**
 * Properties of the lease machine with the real Redis and etcd coordinator cores, on the
 * deterministic lease simulator (in-memory models of the servers): clocks at different rates,
 * lost and late requests, crashes, restarts, pauses past the TTL, resigns and coordinator
 * outages. The same properties, at the same number of runs, for each backend. See
 * docs/backends.md and docs/simulator.md.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaseSimulation, type LeaseBackend } from '../../src/testing/lease-simulation.ts';
import { fcParams, PROPERTY_TIMEOUT_MS } from './arbitraries.ts';

const timing = { ttlMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 };
/** Clock rates within ±10%: the deadline (600 ms) still ends before the TTL (1000 ms) on any of them. */
const rateArb = fc.double({ min: 0.9, max: 1.1, noNaN: true });
const FAULTS_END_MS = 15_000;
/** A node index, or -1: whichever node is primary when the fault happens (the interesting one). */
const nodeArb = fc.oneof(fc.constant(-1), fc.nat(4));

type Fault =
  | { kind: 'crash'; node: number; atMs: number; downMs: number }
  | { kind: 'pause'; node: number; atMs: number; durationMs: number }
  | { kind: 'resign'; node: number; atMs: number }
  | { kind: 'isolate'; node: number; atMs: number; durationMs: number }
  | { kind: 'coordinator-down'; atMs: number; durationMs: number; restarted: boolean };

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('crash' as const), node: nodeArb, atMs: fc.integer({ min: 0, max: FAULTS_END_MS }), downMs: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('pause' as const), node: nodeArb, atMs: fc.integer({ min: 0, max: FAULTS_END_MS }), durationMs: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ kind: fc.constant('resign' as const), node: nodeArb, atMs: fc.integer({ min: 0, max: FAULTS_END_MS }) }),
  fc.record({ kind: fc.constant('isolate' as const), node: nodeArb, atMs: fc.integer({ min: 0, max: FAULTS_END_MS }), durationMs: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ kind: fc.constant('coordinator-down' as const), atMs: fc.integer({ min: 0, max: FAULTS_END_MS }), durationMs: fc.integer({ min: 1, max: 3000 }), restarted: fc.boolean() }),
);

const scenarioArb = fc.record({
  seed: fc.integer(),
  rates: fc.array(rateArb, { minLength: 2, maxLength: 5 }),
  maxLatencyMs: fc.integer({ min: 0, max: 50 }),
  loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
  faults: fc.array(faultArb, { maxLength: 10 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario, backend: LeaseBackend) {
  const sim = new LeaseSimulation({ seed: s.seed, backend, timing, maxLatencyMs: s.maxLatencyMs, loss: s.loss });
  const ids = s.rates.map((_, i) => `n${i + 1}`);
  s.rates.forEach((rate, i) => sim.addNode(ids[i]!, rate));
  let quietAtMs = 0;
  for (const f of s.faults) {
    if (f.kind === 'coordinator-down') {
      sim.at(f.atMs, 'coordinator down', () => sim.coordinatorDown());
      sim.at(f.atMs + f.durationMs, `coordinator ${f.restarted ? 'restarted' : 'resumed'}`, () => sim.coordinatorBack(f.restarted));
      quietAtMs = Math.max(quietAtMs, f.atMs + f.durationMs);
      continue;
    }
    const pick = () => (f.node >= 0 ? ids[f.node % ids.length]! : ([...sim.nodes.values()].find((n) => n.role === 'primary')?.nodeId ?? ids[0]!));
    if (f.kind === 'crash') {
      let id = '';
      sim.at(f.atMs, `crash ${f.node < 0 ? 'the primary' : ids[f.node % ids.length]}`, () => sim.crash((id = pick())));
      sim.at(f.atMs + f.downMs, 'restart it', () => sim.start(id));
      quietAtMs = Math.max(quietAtMs, f.atMs + f.downMs);
    } else if (f.kind === 'isolate') {
      let id = '';
      sim.at(f.atMs, `cut ${f.node < 0 ? 'the primary' : ids[f.node % ids.length]} off from the coordinator for ${f.durationMs} ms`, () => sim.isolated.add((id = pick())));
      sim.at(f.atMs + f.durationMs, 'reconnect it', () => sim.isolated.delete(id));
      quietAtMs = Math.max(quietAtMs, f.atMs + f.durationMs);
    } else if (f.kind === 'pause') {
      sim.at(f.atMs, `pause ${f.node < 0 ? 'the primary' : ids[f.node % ids.length]} for ${f.durationMs} ms`, () => sim.pause(pick(), f.durationMs));
      quietAtMs = Math.max(quietAtMs, f.atMs + f.durationMs);
    } else {
      sim.at(f.atMs, `resign ${f.node < 0 ? 'the primary' : ids[f.node % ids.length]}`, () => sim.resign(pick()));
      quietAtMs = Math.max(quietAtMs, f.atMs);
    }
  }
  // Loss ends with the faults, so that liveness has a defined start.
  sim.at(quietAtMs, 'loss ends', () => (sim.loss = 0));
  return { sim, ids, quietAtMs };
}

const explain = (s: Scenario, sim: LeaseSimulation, what: string) =>
  `${what}\nbackend: ${sim.backend}\nscenario: ${JSON.stringify(s)}\nfaults:\n  ${sim.faultLog.join('\n  ')}\ngrants: ${JSON.stringify(sim.grants.slice(-8))}`;

describe.each(['redis', 'etcd'] as const)('property: lease backend %s', (backend) => {
  it('safety: at no instant do two nodes act as primary (primary with a lease valid on their own clock), and every grant has a higher token', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { sim } = build(s, backend);
        let worst = 0;
        sim.run(FAULTS_END_MS + 5_000, () => {
          const acting = sim.acting();
          if (acting.length > 1 && worst < 2) {
            worst = acting.length;
            throw new Error(explain(s, sim, `${sim.nowMs.toFixed(1)} ms: ${acting.map((n) => `${n.nodeId} (epoch ${n.epoch})`).join(' and ')} act as primary at once`));
          }
        });
        sim.stop();
        for (let i = 1; i < sim.grants.length; i++) expect(sim.grants[i]!.token, explain(s, sim, 'tokens must increase')).toBeGreaterThan(sim.grants[i - 1]!.token);
        expect(sim.violations, explain(s, sim, 'epochs decreased')).toEqual([]);
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('liveness: once the faults end, one node is primary within 2 TTL + 2 periods, every other node follows it, and it stays so', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { sim, ids, quietAtMs } = build(s, backend);
        // Nodes still down when the faults end come back then.
        sim.at(quietAtMs, 'restart every crashed node', () => ids.forEach((id) => sim.start(id)));
        const boundMs = 2 * timing.ttlMs + 2 * timing.retryPeriodMs + 4 * s.maxLatencyMs;
        sim.run(quietAtMs + boundMs);
        const settled = () => {
          const nodes = [...sim.nodes.values()];
          const primaries = nodes.filter((n) => n.role === 'primary');
          if (primaries.length !== 1) return `primaries: ${primaries.map((n) => n.nodeId).join(',') || 'none'}`;
          const p = primaries[0]!;
          const lagging = nodes.filter((n) => n !== p && (n.role !== 'standby' || n.actor?.getSnapshot().context.primaryId !== p.nodeId));
          if (lagging.length > 0) return `not following ${p.nodeId}: ${lagging.map((n) => `${n.nodeId}=${n.role}`).join(',')}`;
          return sim.acting().length === 1 ? p.nodeId : `${p.nodeId} is primary but its lease is not valid`;
        };
        const first = settled();
        expect(ids, explain(s, sim, `${boundMs} ms after the faults ended (${quietAtMs} ms): ${first}`)).toContain(first);
        sim.run(quietAtMs + boundMs + 3_000);
        expect(settled(), explain(s, sim, 'it did not stay settled')).toBe(first);
        sim.stop();
      }),
      fcParams(),
    );
  }, PROPERTY_TIMEOUT_MS);
});
