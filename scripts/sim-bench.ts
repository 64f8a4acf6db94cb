/**
 * Simulator throughput: runs random 60-second scenarios (3 to 7 nodes, seed-default timing,
 * random loss, partitions, crashes and pauses) in one process and prints runs per second and
 * simulated seconds per wall second, median of 5 batches.
 * Usage: npx tsx scripts/sim-bench.ts [runsPerBatch=100]
 */
import { performance } from 'node:perf_hooks';
import { Prng } from '../src/testing/prng.ts';
import { runScenario, type Scenario, type ScenarioEvent } from '../src/testing/scenario.ts';

const runsPerBatch = Number(process.argv[2] ?? 100);
const DURATION_MS = 60_000;

function randomScenario(seed: number): Scenario {
  const r = new Prng(seed);
  const n = r.int(3, 7);
  const ids = Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);
  const events: ScenarioEvent[] = [];
  for (let k = r.int(0, 4); k > 0; k--) {
    const atMs = r.int(5_000, 50_000);
    const who = ids[r.int(0, n - 1)]!;
    const kind = r.int(0, 3);
    if (kind === 0) events.push({ atMs, kind: 'partition', sides: [ids.filter(() => r.chance(0.5)), ids.filter(() => r.chance(0.5))] });
    else if (kind === 1) events.push({ atMs, kind: 'crash', nodeId: who }, { atMs: atMs + r.int(1_000, 10_000), kind: 'restart', nodeId: who });
    else if (kind === 2) events.push({ atMs, kind: 'pause', nodeId: who, durationMs: r.int(100, 20_000) });
    else events.push({ atMs, kind: 'heal' });
  }
  events.push({ atMs: 52_000, kind: 'heal' });
  return {
    seed,
    timing: { electionWindowMs: 2000, heartbeatIntervalMs: 3000, heartbeatTimeoutMs: 9000 },
    faults: { delayMs: 1, jitterMs: 2, lossRate: r.next() * 0.1 },
    nodes: ids.map((nodeId) => ({ nodeId, priority: r.int(0, 3), startAtMs: r.int(0, 3000) })),
    events: events.sort((a, b) => a.atMs - b.atMs),
    durationMs: DURATION_MS,
  };
}

const rates: number[] = [];
let seed = 1;
for (let batch = 0; batch < 6; batch++) {
  const t0 = performance.now();
  for (let i = 0; i < runsPerBatch; i++) runScenario(randomScenario(seed++));
  const seconds = (performance.now() - t0) / 1000;
  if (batch > 0) rates.push(runsPerBatch / seconds); // batch 0 warms up the JIT
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)]!;
console.log(`runs/s (median of ${rates.length} batches of ${runsPerBatch}): ${median.toFixed(1)}`);
console.log(`simulated seconds per wall second: ${((median * DURATION_MS) / 1000).toFixed(0)}`);
console.log(`ms per 60 s run: ${(1000 / median).toFixed(1)}`);
