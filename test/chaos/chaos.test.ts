/**
 * The chaos lab in CI: real node processes in network namespaces on a bridge, real multicast,
 * faults from the kernel. Asserts the simulator's invariants on the real system (one primary
 * after a heal within the bound, failover within the bound, no flapping, epochs that never go
 * down) and writes each scenario's measured numbers to .results/chaos.json.
 * Skipped, with a message, when not root or when iproute2/nftables are missing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { describeNodes, type NodeProcess } from '../integration/cluster.ts';
import { until } from '../until.ts';
import { hasNetem, Lab, labAvailable } from './lab.ts';

const available = labAvailable();
if (!available.ok) console.warn(`chaos lab skipped: ${available.why} (bash .ci/run installs what it needs and runs as root)`);
const netem = available.ok && hasNetem();
if (available.ok && !netem) console.warn('chaos lab: delay/jitter scenario skipped: this kernel has no sch_netem (tc netem)');

const I_MS = 200;
const T_MS = 600;
const timing = { intervalSeconds: I_MS / 1000, timeoutSeconds: T_MS / 1000, windowSeconds: 0.5 };
/** Slack for process scheduling on a loaded 2-core CI machine; the simulator proves the exact bounds. */
const SLACK_MS = 1_000;
/** Observation window for "no flapping" after a fault ends. */
const QUIET_MS = 2_000;

const results: Record<string, Record<string, number | string>> = {};
let lab: Lab | null = null;
afterEach(() => {
  lab?.destroy();
  lab = null;
});
afterAll(() => {
  if (Object.keys(results).length === 0) return;
  mkdirSync('.results', { recursive: true });
  writeFileSync(join('.results', 'chaos.json'), `${JSON.stringify({ intervalMs: I_MS, timeoutMs: T_MS, scenarios: results }, null, 2)}\n`);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const roles = (nodes: NodeProcess[]) => nodes.map((n) => n.currentRole());
const epochOf = (n: NodeProcess) => n.roleChanges().at(-1)?.epoch ?? 0;
/** Converged: one primary, every other node standby, all at the primary's epoch. */
const onePrimary = (nodes: NodeProcess[]) => {
  const r = roles(nodes);
  return r.filter((x) => x === 'primary').length === 1 && r.filter((x) => x === 'standby').length === nodes.length - 1 && new Set(nodes.map(epochOf)).size === 1;
};
const primaryOf = (nodes: NodeProcess[]) => nodes.find((n) => n.currentRole() === 'primary');
/** Role changes proper (epoch-only updates excluded). */
const changes = (nodes: NodeProcess[]) => nodes.reduce((sum, n) => sum + n.roleChanges().filter((l) => l.from !== l.to).length, 0);
/** Takeovers: entries into primary, after the first election. */
const primaryEntries = (nodes: NodeProcess[]) => nodes.reduce((sum, n) => sum + n.roleChanges().filter((l) => l.to === 'primary').length, 0);

function expectEpochsNeverDecrease(nodes: NodeProcess[]): void {
  for (const n of nodes) {
    const epochs = n.roleChanges().map((l) => l.epoch ?? 0);
    for (let i = 1; i < epochs.length; i++) expect(epochs[i], `${n.nodeId} epochs ${epochs.join(',')}`).toBeGreaterThanOrEqual(epochs[i - 1]!);
  }
}

async function pair(l: Lab, spec: { cpu?: [number, number] } = {}): Promise<NodeProcess[]> {
  const nodes = [0, 1].map((i) => l.startNode(i, { ...timing, ...(spec.cpu ? { cpu: spec.cpu[i]! } : {}) }));
  await until('first election', () => onePrimary(nodes), { deadlineMs: 15_000, context: () => describeNodes(nodes) });
  return nodes;
}

/** After a fault: one primary within `boundMs`, then no role change for QUIET_MS. Returns ms to converge. */
async function convergesAndStays(nodes: NodeProcess[], boundMs: number): Promise<number> {
  const t0 = performance.now();
  await until('a single primary', () => onePrimary(nodes), { deadlineMs: boundMs, context: () => describeNodes(nodes) });
  const converged = performance.now() - t0;
  const before = changes(nodes);
  await sleep(QUIET_MS);
  expect(changes(nodes), 'role changes during the quiet window (flapping)').toBe(before);
  expect(onePrimary(nodes)).toBe(true);
  return converged;
}

describe.skipIf(!available.ok)('chaos lab (network namespaces, real multicast)', () => {
  it('kill -9 of the primary: the standby takes over within T + I; the restarted node rejoins as standby', async () => {
    lab = Lab.create(2);
    const nodes = await pair(lab);
    const primary = primaryOf(nodes)!;
    const standby = nodes.find((n) => n !== primary)!;
    const from = standby.logs.length;
    const t0 = performance.now();
    await primary.kill('SIGKILL');
    const line = await standby.waitForRole('primary', T_MS + I_MS + SLACK_MS, from);
    const failoverMs = line.seenAtMs - t0;
    const restarted = lab.startNode(nodes.indexOf(primary), timing);
    await restarted.waitForRole('standby', 10_000);
    const now = [standby, restarted];
    await convergesAndStays(now, 5_000);
    expectEpochsNeverDecrease(now);
    results['kill -9'] = { failoverMs: Math.round(failoverMs), boundMs: T_MS + I_MS };
  });

  it('partition and heal: each side elects a primary; after the heal one primary remains, with an epoch above both', async () => {
    lab = Lab.create(2);
    const nodes = await pair(lab);
    const standbyIdx = nodes.findIndex((n) => n.currentRole() === 'standby');
    lab.linkDown(standbyIdx);
    await until('a primary on each side', () => nodes.every((n) => n.currentRole() === 'primary'), { deadlineMs: T_MS + I_MS + SLACK_MS, context: () => describeNodes(nodes) });
    const sideEpochs = nodes.map(epochOf);
    lab.linkUp(standbyIdx);
    const resolveMs = await convergesAndStays(nodes, 2 * I_MS + SLACK_MS);
    expect(epochOf(primaryOf(nodes)!)).toBeGreaterThan(Math.max(...sideEpochs));
    expectEpochsNeverDecrease(nodes);
    results['partition + heal'] = { resolveMs: Math.round(resolveMs), boundMs: 2 * I_MS };
  });

  it('SIGSTOP of the primary past the timeout, then SIGCONT: the standby takes over; after the resume one primary, above both epochs, no flapping', async () => {
    lab = Lab.create(2);
    const nodes = await pair(lab);
    const primary = primaryOf(nodes)!;
    const standby = nodes.find((n) => n !== primary)!;
    primary.proc.kill('SIGSTOP');
    await standby.waitForRole('primary', T_MS + I_MS + SLACK_MS, standby.logs.length);
    await sleep(T_MS * 3);
    const sideEpochs = nodes.map(epochOf);
    primary.proc.kill('SIGCONT');
    // The resumed node still believes it is primary: the conflict rule (priority, then lowest
    // IP) decides, as for any two primaries that meet; the survivor moves above both epochs.
    const resolveMs = await convergesAndStays(nodes, 2 * I_MS + SLACK_MS);
    expect(epochOf(primaryOf(nodes)!)).toBeGreaterThan(Math.max(...sideEpochs));
    expectEpochsNeverDecrease(nodes);
    results['SIGSTOP past timeout'] = { resolveAfterContMs: Math.round(resolveMs), pausedMs: T_MS * 3, survivor: primaryOf(nodes) === primary ? 'the resumed node (better rank)' : 'the new primary' };
  });

  it('30% loss both ways for 8 s: false failovers are counted; one primary within the bound after it ends', async () => {
    lab = Lab.create(2);
    const nodes = await pair(lab);
    const entries = primaryEntries(nodes);
    lab.loss(0, 30);
    lab.loss(1, 30);
    await sleep(8_000);
    lab.clear(0);
    lab.clear(1);
    // Silence that began under the loss can still expire up to T after it ends: that is the
    // fault's tail, not flapping.
    await sleep(T_MS + I_MS);
    const falseFailovers = primaryEntries(nodes) - entries;
    const resolveMs = await convergesAndStays(nodes, 2 * I_MS + SLACK_MS);
    expectEpochsNeverDecrease(nodes);
    results['30% loss, 8 s'] = { falseFailovers, resolveAfterMs: Math.round(resolveMs) };
  });

  it('asymmetric loss (50% of the primary\'s outgoing datagrams) for 8 s: counted; converges after', async () => {
    lab = Lab.create(2);
    const nodes = await pair(lab);
    const p = nodes.findIndex((n) => n.currentRole() === 'primary');
    const entries = primaryEntries(nodes);
    lab.loss(p, 50, 'out');
    await sleep(8_000);
    lab.clear(p);
    await sleep(T_MS + I_MS); // the fault's tail, as above
    const falseFailovers = primaryEntries(nodes) - entries;
    const resolveMs = await convergesAndStays(nodes, 2 * I_MS + SLACK_MS);
    expectEpochsNeverDecrease(nodes);
    results['asymmetric 50% loss, 8 s'] = { falseFailovers, resolveAfterMs: Math.round(resolveMs) };
  });

  it('duplication of half the heartbeats changes nothing', async () => {
    lab = Lab.create(2);
    const nodes = await pair(lab);
    const before = changes(nodes);
    lab.duplicate(0, 50);
    lab.duplicate(1, 50);
    await sleep(4_000);
    expect(changes(nodes)).toBe(before);
    expect(onePrimary(nodes)).toBe(true);
    results['50% duplication, 4 s'] = { roleChanges: changes(nodes) - before };
  });

  it('CPU saturation of the primary\'s host (two busy loops on its CPU) for 8 s: no failover', async () => {
    lab = Lab.create(2);
    const nodes = await pair(lab, { cpu: [0, 1] });
    const p = nodes.findIndex((n) => n.currentRole() === 'primary');
    const before = changes(nodes);
    const hogs = lab.cpuHogs(p, 2);
    await sleep(8_000);
    for (const h of hogs) h.kill('SIGKILL');
    const falseFailovers = changes(nodes) - before;
    expect(falseFailovers).toBe(0);
    results['CPU saturation, 8 s'] = { roleChanges: falseFailovers };
  });
});
