/**
 * Failover time per backend, on this host with real servers: two node processes, then N rounds
 * of kill -9 of the primary (crash) and N rounds of SIGTERM (graceful hand-over), timed from
 * the signal to the other node logging primary. Medians and p90, printed as a markdown table.
 *
 * Timings: multicast interval 0.2 s / timeout 0.6 s; redis and etcd TTL 1 s, renew deadline
 * 0.6 s, retry period 0.15 s (the backend tests' settings).
 *
 * Usage: npx tsx scripts/bench-backends.ts [--rounds 15]   (needs redis-server and etcd)
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { FenceStore } from '../test/backends/fence-store.ts';
import { LEASE, startLeaseNode } from '../test/backends/lease-cluster.ts';
import { EtcdServer, have, RedisServer, type TestServer } from '../test/backends/servers.ts';
import { randomNetwork, startNode, stopAll, type NodeProcess } from '../test/integration/cluster.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 1000) throw new Error('--rounds must be an integer in 1..1000');

type Backend = 'multicast' | 'redis' | 'etcd';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function until<T>(what: string, probe: () => T | undefined, deadlineMs: number): Promise<T> {
  const end = performance.now() + deadlineMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`no ${what} within ${deadlineMs} ms`);
    await sleep(2);
  }
}

async function measure(backend: Backend, kind: 'crash' | 'planned'): Promise<number[]> {
  let server: TestServer | null = null;
  const store = new FenceStore();
  const fenceUrl = await store.listen();
  const net = randomNetwork();
  const prefix = backend === 'etcd' ? `/bench/${kind}` : `bench-${kind}`;
  if (backend === 'redis') server = await RedisServer.create();
  if (backend === 'etcd') server = await EtcdServer.create();
  const start = (i: number) =>
    backend === 'multicast'
      ? startNode({ ...net, nodeId: `127.0.0.${10 + i}` })
      : startLeaseNode({ nodeId: `127.0.0.${10 + i}`, backend, url: server!.url, prefix, fenceUrl });
  const nodes: (NodeProcess | null)[] = [await start(0), await start(1)];
  const samples: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const [p, s] = await until('one primary and one standby', () => {
        const [a, b] = nodes;
        if (a!.currentRole() === 'primary' && b!.currentRole() === 'standby') return [0, 1] as const;
        if (b!.currentRole() === 'primary' && a!.currentRole() === 'standby') return [1, 0] as const;
        return undefined;
      }, 30_000);
      await sleep(1_000); // steady state: a few renewals / heartbeats
      const t0 = performance.now();
      nodes[p]!.proc.kill(kind === 'crash' ? 'SIGKILL' : 'SIGTERM');
      const hit = await until('takeover', () => nodes[s]!.roleChanges().find((l) => l.to === 'primary' && l.seenAtMs >= t0), 30_000);
      samples.push(hit.seenAtMs - t0);
      await nodes[p]!.exited;
      nodes[p] = await start(p);
    }
  } finally {
    await stopAll(nodes.filter((n): n is NodeProcess => n !== null));
    await store.close();
    await server?.destroy();
  }
  return samples;
}

const rows: string[] = [];
const report: Record<string, unknown> = { rounds: ROUNDS, lease: LEASE };
for (const backend of ['multicast', 'redis', 'etcd'] as const) {
  if (backend === 'redis' && !have('redis-server')) throw new Error('redis-server is not installed (apt-get install redis-server)');
  if (backend === 'etcd' && !have('etcd')) throw new Error('etcd is not installed (apt-get install etcd-server)');
  const crash = await measure(backend, 'crash');
  const planned = await measure(backend, 'planned');
  report[backend] = { crash, planned };
  const f = (xs: number[]) => `${pct(xs, 0.5).toFixed(0)} / ${pct(xs, 0.9).toFixed(0)}`;
  rows.push(`| ${backend} | ${f(crash)} | ${f(planned)} |`);
  process.stdout.write(`${rows.at(-1)}\n`);
}
process.stdout.write(['', `${ROUNDS} rounds each`, '| backend | crash (kill -9) failover, ms p50 / p90 | graceful hand-over (SIGTERM), ms p50 / p90 |', '|---|---|---|', ...rows, ''].join('\n'));
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
