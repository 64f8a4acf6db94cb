/**
 * Planned switchover on loopback: SIGTERM to the primary until the standby reports primary,
 * measured from the signal to the standby's role-change log line reaching this process.
 * Also measures unplanned failover (SIGKILL) for comparison. Prints medians.
 * Usage: npx tsx scripts/bench-handover.ts [rounds=15]
 */
import { performance } from 'node:perf_hooks';
import { randomNetwork, startNode, stopAll, type NodeProcess } from '../test/integration/cluster.ts';

const rounds = Number(process.argv[2] ?? 15);
const timing = { intervalSeconds: 0.2, timeoutSeconds: 0.6, windowSeconds: 0.3 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]!;

async function measure(signal: 'SIGTERM' | 'SIGKILL'): Promise<number[]> {
  const net = randomNetwork();
  const ids = ['127.0.0.2', '127.0.0.3'];
  const live = new Map<string, NodeProcess>();
  for (const id of ids) live.set(id, await startNode({ ...net, ...timing, nodeId: id }));
  const samples: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // Find who is primary now, with both nodes up and agreeing.
      const procs = [...live.values()];
      const primary = await Promise.race(procs.map((p) => p.waitForStatus('primary', (s) => s.role === 'primary', 20_000).then(() => p)));
      const standby = procs.find((p) => p !== primary)!;
      await standby.waitForStatus('standby of that primary', (s) => s.role === 'standby' && s.primaryId === primary.nodeId, 20_000);
      const from = standby.logs.length;
      const t0 = performance.now();
      primary.proc.kill(signal);
      const line = await standby.waitForRole('primary', 10_000, from);
      samples.push(line.seenAtMs - t0);
      await primary.exited;
      live.set(primary.nodeId, await startNode({ ...net, ...timing, nodeId: primary.nodeId }));
    }
  } finally {
    await stopAll([...live.values()]);
  }
  return samples;
}

const planned = await measure('SIGTERM');
const unplanned = await measure('SIGKILL');
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, p90 ${p90(xs).toFixed(1)} ms, n=${xs.length}`;
console.log(`timing: interval ${timing.intervalSeconds * 1000} ms, timeout ${timing.timeoutSeconds * 1000} ms`);
console.log(`planned switchover (SIGTERM -> standby primary): ${fmt(planned)}`);
console.log(`unplanned failover (SIGKILL -> standby primary): ${fmt(unplanned)}`);
console.log(`ratio unplanned/planned (medians): ${(median(unplanned) / median(planned)).toFixed(1)}x`);
