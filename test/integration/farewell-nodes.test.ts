/**
 * `hastate farewell` and `hastate run --supervise` with real node processes on loopback
 * multicast: after a kill -9 of the primary, its farewell makes the standby take over as on a
 * hand-over, long before the heartbeat timeout could have fired (the timeout is set long, so the
 * assertion is about which path was taken, not about speed); refused while the process lives;
 * signed when auth is on (and an unsigned one is dropped); harmless when the cluster has moved on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { LEAVING_PRIORITY } from '../../machines/identity.ts';
import type { NodeStatus } from '../../src/runtime/status.ts';
import { CLI, randomNetwork, startNode, type NodeProcess } from './cluster.ts';
import { nodesStoppedAfterEach, settled, startPair, STARTUP_MS } from './pair.ts';

/** The heartbeat timeout of these tests: far longer than a farewell takes even on a loaded machine. */
const LONG_TIMEOUT_MS = 8_000;
const CLI_DEADLINE_MS = 30_000;

const nodes = nodesStoppedAfterEach();
/** Node processes started by supervisors: they run in their own process group, so they are killed by pid. */
const children = new Set<number>();
afterEach(() => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
});

const configOf = (n: NodeProcess): string => n.proc.spawnargs[n.proc.spawnargs.indexOf('--config') + 1]!;

/** Runs `hastate farewell --config FILE` (bounded); its exit code and output. */
function farewell(configFile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CLI, 'farewell', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_'))),
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`hastate farewell did not exit within ${CLI_DEADLINE_MS} ms; stderr: ${stderr}`));
    }, CLI_DEADLINE_MS);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The standby became primary because the primary handed over, within the (long) timeout of the kill. */
async function expectHandOverAfter(standby: NodeProcess, killedAtMs: number, fromIndex: number) {
  const took = await standby.waitForRole('primary', LONG_TIMEOUT_MS, fromIndex);
  expect(took.reason).toBe('the primary handed over');
  expect(took.seenAtMs - killedAtMs).toBeLessThan(LONG_TIMEOUT_MS);
}

describe('hastate farewell', () => {
  it('after a kill -9 of the primary, makes the standby take over at once with a term above the dead one', async () => {
    const { a, b } = await startPair(nodes, { nodeId: '127.0.0.2', priority: 10 }, { nodeId: '127.0.0.3' }, { timeoutSeconds: LONG_TIMEOUT_MS / 1000 });
    const { p } = await settled(a, b);
    const from = b.logs.length;
    const killedAt = performance.now();
    await a.kill('SIGKILL');
    const res = await farewell(configOf(a));
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ sent: true, nodeId: '127.0.0.2', epoch: p.epoch, signed: false, copies: 2 });
    await expectHandOverAfter(b, killedAt, from);
    const s = await b.status();
    expect(s.epoch).toBeGreaterThan(p.epoch);
  });

  it('refuses while the node process lives, and sends nothing: the standby stays standby', async () => {
    const { a, b } = await startPair(nodes, { nodeId: '127.0.0.2', priority: 10 }, { nodeId: '127.0.0.3' });
    const before = await settled(a, b);
    const res = await farewell(configOf(a));
    expect(res.code).toBe(5);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/refusing to speak for node "127\.0\.0\.2", its process may still be alive: .*epoch-127\.0\.0\.2\.lock: held by running process \d+/);
    // Several heartbeats later nothing has moved, and the standby never heard a leaving priority.
    const s = await b.waitForStatus('5 more datagrams', (st) => st.packets.received >= before.s.packets.received + 5, STARTUP_MS);
    expect([s.role, s.primaryId, s.roleChanges, s.epoch]).toEqual(['standby', '127.0.0.2', before.s.roleChanges, before.s.epoch]);
    expect(s.peers.find((x) => x.nodeId === '127.0.0.2')?.priority).toBe(10);
    expect((await a.status()).role).toBe('primary');
  });

  it('with auth on: an unsigned farewell is dropped, the signed one is accepted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastate-farewell-it-'));
    const keyFile = join(dir, 'auth.key');
    writeFileSync(keyFile, `1:${'farewell-shared-key-'.repeat(2)}\n`, { mode: 0o600 });
    const auth = { mode: 'enforce' as const, keyFile };
    const { a, b } = await startPair(nodes, { nodeId: '127.0.0.2', priority: 10 }, { nodeId: '127.0.0.3' }, { auth, timeoutSeconds: LONG_TIMEOUT_MS / 1000 });
    const before = await settled(a, b);
    const unsignedConfig = join(dir, 'unsigned.yaml');
    writeFileSync(unsignedConfig, readFileSync(configOf(a), 'utf8').replace('mode: enforce', 'mode: off'));
    const from = b.logs.length;
    const killedAt = performance.now();
    await a.kill('SIGKILL');

    const unsigned = await farewell(unsignedConfig);
    expect(JSON.parse(unsigned.stdout)).toMatchObject({ sent: true, signed: false });
    const missing = (st: NodeStatus) => st.droppedPackets.byReason['auth-missing'] ?? 0;
    const dropped = await b.waitForStatus('the unsigned farewell dropped', (st) => missing(st) >= missing(before.s) + 2, STARTUP_MS);
    expect([dropped.role, dropped.primaryId]).toEqual(['standby', '127.0.0.2']);

    const signed = await farewell(configOf(a));
    expect(JSON.parse(signed.stdout)).toMatchObject({ sent: true, signed: true });
    await expectHandOverAfter(b, killedAt, from);
  });

  it('changes nothing once the cluster has moved past the dead node: its epoch is below the current term', async () => {
    const net = randomNetwork();
    const common = { ...net, windowSeconds: 2 };
    const [a, b, c] = await Promise.all([
      startNode({ ...common, nodeId: '127.0.0.2', priority: 10 }),
      startNode({ ...common, nodeId: '127.0.0.3', priority: 5 }),
      startNode({ ...common, nodeId: '127.0.0.4' }),
    ]);
    nodes.push(a, b, c);
    await Promise.all([a.waitForRole('primary', STARTUP_MS), b.waitForRole('standby', STARTUP_MS), c.waitForRole('standby', STARTUP_MS)]);
    const old = await a.status();
    // No farewell: b takes over after the (short) timeout, and c follows it.
    await a.kill('SIGKILL');
    await b.waitForRole('primary', STARTUP_MS);
    const [sb, sc] = await Promise.all([
      b.waitForStatus('a term above the dead primary', (st) => st.epoch > old.epoch, STARTUP_MS),
      c.waitForStatus('following b', (st) => st.primaryId === '127.0.0.3', STARTUP_MS),
    ]);
    const res = await farewell(configOf(a));
    expect(JSON.parse(res.stdout)).toMatchObject({ sent: true, epoch: old.epoch });
    // Both heard it (a's leaving priority is in their peer tables), and neither moved.
    const heard = (st: NodeStatus) => st.peers.some((x) => x.nodeId === '127.0.0.2' && x.priority === LEAVING_PRIORITY);
    const [hb, hc] = await Promise.all([b.waitForStatus('the farewell', heard, STARTUP_MS), c.waitForStatus('the farewell', heard, STARTUP_MS)]);
    expect([hb.role, hb.epoch, hb.roleChanges]).toEqual(['primary', sb.epoch, sb.roleChanges]);
    expect([hc.role, hc.primaryId, hc.epoch, hc.roleChanges]).toEqual(['standby', '127.0.0.3', sc.epoch, sc.roleChanges]);
  });
});

describe('hastate run --supervise', () => {
  it('on a kill -9 of the node: sends its farewell (the standby takes over at once), restarts it, and stops with it on SIGTERM', async () => {
    // The supervisor starts the node a moment later than a plain run: start it first, alone.
    const net = randomNetwork();
    const a = await startNode({ ...net, nodeId: '127.0.0.2', priority: 10, supervise: true, timeoutSeconds: LONG_TIMEOUT_MS / 1000 });
    nodes.push(a);
    await a.waitForRole('primary', STARTUP_MS);
    const b = await startNode({ ...net, nodeId: '127.0.0.3', timeoutSeconds: LONG_TIMEOUT_MS / 1000 });
    nodes.push(b);
    await settled(a, b);
    const first = await a.waitForLog('the supervised node', (l) => l.event === 'supervisor-start', STARTUP_MS);
    const pid = first.childPid as number;
    children.add(pid);
    const fromA = a.logs.length;
    const fromB = b.logs.length;
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    await expectHandOverAfter(b, killedAt, fromB);
    const sent = await a.waitForLog('the farewell', (l) => l.event === 'farewell', STARTUP_MS, fromA);
    expect(sent).toMatchObject({ sent: true, nodeId: '127.0.0.2' });
    // Restarted (a new process), and back as the standby of the node that took over.
    const second = await a.waitForLog('a restart', (l) => l.event === 'supervisor-start', STARTUP_MS, fromA);
    children.add(second.childPid as number);
    expect(second.childPid).not.toBe(pid);
    await a.waitForRole('standby', STARTUP_MS, fromA);
    // SIGTERM reaches the node through the supervisor; the supervisor exits with it and restarts nothing.
    a.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(a.logs.slice(fromA).filter((l) => l.event === 'supervisor-start')).toHaveLength(1);
    expect(() => process.kill(second.childPid as number, 0)).toThrow();
  });
});
