/**
 * A copy-pasted config: a third real process starts with the primary's node id, on real
 * multicast sockets on loopback. Neither process with that id may act as primary while both
 * live, both report the fault, the epoch does not storm, and the survivor recovers by itself.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { randomNetwork, startNode, type NodeProcess } from './cluster.ts';
import { INTERVAL_MS, nodesStoppedAfterEach, SLACK_MS, STARTUP_MS, TIMEOUT_MS, WINDOW_SECONDS } from './pair.ts';

/** How long the conflict is watched: 25 heartbeat intervals. */
const CONFLICT_WATCH_MS = 5_000;

const nodes = nodesStoppedAfterEach();

async function healthz(n: NodeProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${n.statusPort}/healthz`, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status;
}

async function metric(n: NodeProcess, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${n.statusPort}/metrics`, { signal: AbortSignal.timeout(2000) });
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} in /metrics of ${n.nodeId}`);
  return Number(line.slice(name.length + 1));
}

describe('a second live process with a node id already in use', () => {
  it('neither twin is primary while both live, each reports it, the epoch does not storm, and the survivor recovers', async () => {
    const net = randomNetwork();
    const dir = mkdtempSync(join(tmpdir(), 'hastate-dup-'));
    // notify.fault appends "<role> <epoch> <node id> <pid>" to a file per process.
    const faultLog = (name: string) => join(dir, `${name}.fault`);
    const notifyFault = (name: string) => `echo "$1 $2 $3 $PPID" >> ${faultLog(name)}`;
    const spec = { ...net, windowSeconds: WINDOW_SECONDS, intervalSeconds: INTERVAL_MS / 1000, timeoutSeconds: TIMEOUT_MS / 1000 };
    const [a, b] = await Promise.all([startNode({ ...spec, nodeId: '127.0.0.2', priority: 10, notifyFault: notifyFault('a') }), startNode({ ...spec, nodeId: '127.0.0.3' })]);
    nodes.push(a, b);
    await Promise.all([a.waitForRole('primary', STARTUP_MS), b.waitForRole('standby', STARTUP_MS)]);
    await b.waitForStatus('primary 127.0.0.2', (s) => s.primaryId === a.nodeId, STARTUP_MS);
    const bEpochBefore = (await b.status()).epoch;
    const bLinesBefore = b.roleChanges().length;

    const twin = await startNode({ ...spec, nodeId: '127.0.0.2', priority: 10, notifyFault: notifyFault('twin') });
    nodes.push(twin);
    // Both detect: role unknown, with the reason naming the id and where the other one is.
    const [aFault, twinFault] = await Promise.all([
      a.waitForLog('a duplicate-id fault', (l) => l.event === 'role-change' && l.to === 'unknown', STARTUP_MS),
      twin.waitForLog('a duplicate-id fault', (l) => l.event === 'role-change' && l.to === 'unknown', STARTUP_MS),
    ]);
    // Detection within two intervals of the twin's transport coming up (plus scheduling slack).
    const twinUp = twin.logs.find((l) => l.msg === 'multicast transport up')!;
    const detectMs = Math.max(aFault.seenAtMs, twinFault.seenAtMs) - twinUp.seenAtMs;
    console.log(`duplicate detected by both ${detectMs.toFixed(0)} ms after the twin's transport came up (interval ${INTERVAL_MS} ms)`);
    expect(detectMs).toBeLessThanOrEqual(2 * INTERVAL_MS + SLACK_MS);
    for (const fault of [aFault, twinFault]) expect(fault.reason).toMatch(/^duplicate node id: another process at 127\.0\.0\.1:\d+ uses node id 127\.0\.0\.2$/);
    for (const n of [a, twin]) {
      const error = n.logs.find((l) => l.level >= 50 && l.msg.includes('uses our node_id 127.0.0.2'));
      expect(error?.msg, n.tail()).toMatch(/another node at 127\.0\.0\.1:\d+ uses our node_id 127\.0\.0\.2/);
    }
    // The standby takes over from the silenced primary: one takeover, one epoch.
    await b.waitForRole('primary', TIMEOUT_MS + INTERVAL_MS + SLACK_MS);

    // Watch the conflict: no twin is primary in any sample, both answer 503 and raise the metric.
    const aPrimaryLines = a.roleChanges().filter((l) => l.to === 'primary').length;
    const end = performance.now() + CONFLICT_WATCH_MS;
    let samples = 0;
    while (performance.now() < end) {
      const [sa, st] = await Promise.all([a.status(), twin.status()]);
      expect([sa.role, st.role]).toEqual(['unknown', 'unknown']);
      samples++;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(samples).toBeGreaterThan(5);
    // notify.fault ran in both processes.
    for (const name of ['a', 'twin']) {
      await expect.poll(() => existsSync(faultLog(name)) && readFileSync(faultLog(name), 'utf8'), { timeout: 5_000 }).toMatch(/ 127\.0\.0\.2 /);
    }
    expect(await healthz(a)).toBe(503);
    expect(await healthz(twin)).toBe(503);
    expect(await metric(a, 'hastate_duplicate_node_id')).toBe(1);
    expect(await metric(twin, 'hastate_duplicate_node_id')).toBe(1);
    expect(a.roleChanges().filter((l) => l.to === 'primary').length).toBe(aPrimaryLines);
    expect(twin.roleChanges().filter((l) => l.to === 'primary')).toEqual([]);

    // No storm: B's epoch grew by its one takeover, and its services saw no per-heartbeat
    // standby -> standby transitions (at most the one while it followed before taking over).
    const bStatus = await b.status();
    expect(bStatus.role).toBe('primary');
    expect(bStatus.epoch).toBe(bEpochBefore + 1);
    const bLines = b.roleChanges().slice(bLinesBefore);
    expect(bLines.filter((l) => l.from === 'standby' && l.to === 'standby').length, b.tail()).toBeLessThanOrEqual(1);
    expect(bLines.filter((l) => l.from === l.to).length, b.tail()).toBeLessThanOrEqual(1);

    // The twin goes away: the survivor leaves the fault by itself within timeout + interval + election window.
    const linesAtKill = a.logs.length;
    await twin.kill('SIGKILL');
    await a.waitForRole('standby', TIMEOUT_MS + INTERVAL_MS + WINDOW_SECONDS * 1000 + SLACK_MS, linesAtKill);
    await a.waitForStatus('healthy again', (s) => s.role === 'standby' && s.primaryId === b.nodeId, SLACK_MS);
    expect(await healthz(a)).toBe(200);
    expect(await metric(a, 'hastate_duplicate_node_id')).toBe(0);
  }, 90_000);
});
