/**
 * Service benchmarks (issue 4):
 * 1. Role-change fan-out: from the role machine entering primary (its snapshot, seen by the
 *    XState inspector) to every one of N services having run its onRoleChange for it.
 *    Each sample is a fresh node (ha.enabled: false, so it becomes primary at once) with N
 *    services; reports median and p90 over the samples.
 * 2. The hot-path role check (`ctx.isPrimary()`, the seed's IsPrimary()): checks per second.
 * Usage: npm run bench:services [-- services=100 samples=51]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { parseConfigText } from '../src/config/index.ts';
import { HaNode } from '../src/runtime/node.ts';
import { defineService, type ServiceContext } from '../src/services/types.ts';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? def);
const SERVICES = arg('services', 100);
const SAMPLES = arg('samples', 51);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]!;
const silent = pino({ level: 'silent' });
// A throw-away state directory: the bench must not write epoch files into the user's.
const stateDir = mkdtempSync(join(tmpdir(), 'hastate-bench-state-'));
const config = parseConfigText(`ha:\n  enabled: false\n  interface: 127.0.0.1\n  state_dir: ${JSON.stringify(stateDir)}\nstatus:\n  enabled: false\n`, 'bench.yaml', { env: {} });

async function fanOutOnce(): Promise<number> {
  let enteredMs: number | null = null;
  let acted = 0;
  let lastActedMs = 0;
  let done!: () => void;
  const allActed = new Promise<void>((r) => (done = r));
  const services = Array.from({ length: SERVICES }, (_, i) =>
    defineService({
      name: `svc-${i}`,
      onRoleChange(t) {
        if (t.to !== 'primary') return;
        lastActedMs = performance.now();
        if (++acted === SERVICES) done();
      },
    }),
  );
  const node = new HaNode({
    config,
    logger: silent,
    services,
    inspect: (e) => {
      // Only the role machine tags a state `primary`; service supervisors have no role tags.
      if (enteredMs !== null || e.type !== '@xstate.snapshot') return;
      const snapshot = e.snapshot as { hasTag?: (tag: string) => boolean };
      if (snapshot.hasTag?.('primary') === true) enteredMs = performance.now();
    },
  });
  node.start();
  await Promise.race([allActed, new Promise((_, reject) => setTimeout(() => reject(new Error('services did not all act within 10 s')), 10_000))]);
  await node.stop(1_000);
  if (enteredMs === null) throw new Error('never saw the machine enter primary');
  return lastActedMs - enteredMs;
}

async function isPrimaryRate(): Promise<{ perSecond: number; nsPerCheck: number }> {
  let ctx: ServiceContext | null = null;
  const probe = defineService({ name: 'probe', start: (c) => void (ctx = c) });
  const node = new HaNode({ config, logger: silent, services: [probe] });
  node.start();
  const deadline = performance.now() + 10_000;
  while (!(ctx as ServiceContext | null)?.isPrimary()) {
    if (performance.now() > deadline) throw new Error('the probe never saw primary within 10 s');
    await new Promise((r) => setTimeout(r, 1));
  }
  const c = ctx! as ServiceContext;
  const N = 50_000_000;
  let hits = 0;
  for (let i = 0; i < 1_000_000; i++) if (c.isPrimary()) hits++; // warm-up
  hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) if (c.isPrimary()) hits++;
  const ms = performance.now() - t0;
  await node.stop(1_000);
  if (hits !== N) throw new Error('lost primary during the measurement');
  return { perSecond: N / (ms / 1000), nsPerCheck: (ms * 1e6) / N };
}

const samples: number[] = [];
for (let i = 0; i < SAMPLES; i++) samples.push(await fanOutOnce());
const rate = await isPrimaryRate();
console.log(`role-change fan-out to ${SERVICES} services: median ${median(samples).toFixed(3)} ms, p90 ${p90(samples).toFixed(3)} ms over ${SAMPLES} nodes (target: median < 1 ms)`);
console.log(`ctx.isPrimary(): ${(rate.perSecond / 1e6).toFixed(0)} million checks/s, ${rate.nsPerCheck.toFixed(2)} ns per check (target: >= 10 million/s)`);
