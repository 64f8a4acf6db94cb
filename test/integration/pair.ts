/**
 * What the multicast integration test files share on top of cluster.ts: the timing their bounds
 * are stated in, the list of nodes a file starts (stopped after each test), and a pair of nodes
 * started together and awaited until they agree on who is primary.
 * Vitest-only (it registers hooks); the bench scripts use cluster.ts alone.
 */
import { afterEach, expect } from 'vitest';
import type { NodeStatus } from '../../src/runtime/status.ts';
import { randomNetwork, startNode, stopAll, type NodeProcess, type NodeSpec } from './cluster.ts';

/** The heartbeat interval and timeout startNode gives a node unless its spec says otherwise. */
export const INTERVAL_MS = 200;
export const TIMEOUT_MS = 600;
/** Process start-up (tsx compile) and scheduling noise on a loaded 2-core machine. */
export const STARTUP_MS = 15_000;
export const SLACK_MS = 1_500;
/**
 * The election window the pair tests use: wide enough that two processes started together
 * (each compiling its TypeScript on a loaded 2-core machine) still meet inside it, because the
 * rule under test (priority, then lowest IP) only applies to nodes that do.
 */
export const WINDOW_SECONDS = 2;

/** The list a test file pushes its node processes into; after each test all are killed and the list emptied. */
export function nodesStoppedAfterEach(): NodeProcess[] {
  const nodes: NodeProcess[] = [];
  afterEach(async () => {
    await stopAll(nodes.splice(0));
  });
  return nodes;
}

export type PairMember = Partial<NodeSpec> & { nodeId: string };

/** Starts `a` and `b` at once on a fresh network with the wide election window (plus `common`), adding them to `nodes`. */
export async function startPair(nodes: NodeProcess[], a: PairMember, b: PairMember, common: Partial<NodeSpec> = {}) {
  const net = randomNetwork();
  const [na, nb] = await Promise.all([startNode({ ...net, windowSeconds: WINDOW_SECONDS, ...common, ...a }), startNode({ ...net, windowSeconds: WINDOW_SECONDS, ...common, ...b })]);
  nodes.push(na, nb);
  return { net, a: na, b: nb };
}

/** Waits until `primary` and `standby` hold those roles and each one's status names the other; returns both statuses. */
export async function settled(primary: NodeProcess, standby: NodeProcess) {
  await Promise.all([primary.waitForRole('primary', STARTUP_MS), standby.waitForRole('standby', STARTUP_MS)]);
  // Both must agree, and stay agreed for a few heartbeats.
  const [p, s] = await Promise.all([
    primary.waitForStatus('a standby peer', (st) => st.peers.some((x) => x.nodeId === standby.nodeId && x.role === 'standby'), STARTUP_MS),
    standby.waitForStatus(`primary ${primary.nodeId}`, (st) => st.primaryId === primary.nodeId && st.lastPrimaryHeartbeatAgeMs !== null, STARTUP_MS),
  ]);
  return { p, s };
}

/** After a disturbance: `primary` and `standby` still hold their roles, with no role change and the epoch `before` saw. */
export async function expectNothingMoved(primary: NodeProcess, standby: NodeProcess, before: { p: NodeStatus; s: NodeStatus }) {
  const [ea, eb] = await Promise.all([primary.status(), standby.status()]);
  expect([ea.role, eb.role]).toEqual(['primary', 'standby']);
  expect([ea.roleChanges, eb.roleChanges]).toEqual([before.p.roleChanges, before.s.roleChanges]);
  expect(ea.epoch).toBe(before.p.epoch);
}

/** Waits until each of the pair has counted at least `count` more dropped datagrams than `before` showed; returns both statuses. */
export function moreDrops(primary: NodeProcess, standby: NodeProcess, before: { p: NodeStatus; s: NodeStatus }, count: number, deadlineMs: number): Promise<NodeStatus[]> {
  return Promise.all(
    [primary, standby].map((n, i) =>
      n.waitForStatus(`${count} more drops`, (s) => s.droppedPackets.total - [before.p, before.s][i]!.droppedPackets.total >= count, deadlineMs),
    ),
  );
}
