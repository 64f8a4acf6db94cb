/**
 * A second live process with a node id already in use, on the lease backends with real
 * servers (redis-server, etcd) and real node processes: it is refused (role unknown, an error
 * naming the id, /healthz 503, the metric) while the first lives, the first is undisturbed,
 * and once the first is killed the second takes the id over on its own.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../integration/cluster.ts';
import { FenceStore } from './fence-store.ts';
import { LEASE, startLeaseNode, stopLeaseCluster } from './lease-cluster.ts';
import { BACKENDS, type TestServer } from './servers.ts';

const STARTUP_MS = 20_000;
const SLACK_MS = 1_500;
const TTL_MS = LEASE.ttlSeconds * 1000;
const RETRY_MS = LEASE.retryPeriodSeconds * 1000;
/** How long the refused twin is watched: several TTLs, in which it must never campaign successfully. */
const WATCH_MS = 3 * TTL_MS;

async function get(n: NodeProcess, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${n.statusPort}${path}`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, text: await res.text() };
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`backend ${backend.name}: a second process with a live node id`, () => {
    let server: TestServer;
    let store: FenceStore;
    let nodes: NodeProcess[] = [];
    let spec: Parameters<typeof startLeaseNode>[0];

    beforeEach(async () => {
      server = await backend.create();
      store = new FenceStore();
      const prefix = backend.name === 'redis' ? `hs-dup-${Math.random().toString(36).slice(2, 8)}` : `/hs-dup/${Math.random().toString(36).slice(2, 8)}`;
      spec = { nodeId: 'node-1', backend: backend.name, url: server.url, prefix, fenceUrl: await store.listen() };
    });
    afterEach(() => stopLeaseCluster(nodes, store, server));

    it('is refused while the first lives, and takes the id over once the first is gone', async () => {
      const first = await startLeaseNode(spec);
      nodes.push(first);
      await first.waitForStatus('primary', (s) => s.role === 'primary', STARTUP_MS);
      const other = await startLeaseNode({ ...spec, nodeId: 'node-2' });
      nodes.push(other);
      await other.waitForStatus('standby', (s) => s.role === 'standby', STARTUP_MS);
      const firstChanges = first.roleChanges().length;

      const twin = await startLeaseNode(spec);
      nodes.push(twin);
      const error = await twin.waitForLog('the duplicate-id error', (l) => l.level >= 50 && l.msg.includes('another live process is registered with our node id node-1'), STARTUP_MS);
      expect(error.msg).toContain('refusing to campaign');
      const st = await twin.waitForStatus('the duplicate-id fault', (s) => s.reason.startsWith('duplicate node id'), 5_000);
      expect(st.role).toBe('unknown');

      // Watch: the twin never leaves unknown, the first stays primary, and both nodes' fenced
      // writers see only the first's term.
      const end = performance.now() + WATCH_MS;
      while (performance.now() < end) {
        const [a, b] = await Promise.all([first.status(), twin.status()]);
        expect([a.role, b.role]).toEqual(['primary', 'unknown']);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(twin.roleChanges().filter((l) => l.to === 'primary' || l.to === 'standby')).toEqual([]);
      expect(first.roleChanges().length).toBe(firstChanges);
      expect((await get(twin, '/healthz')).status).toBe(503);
      expect((await get(twin, '/metrics')).text).toMatch(/^hastate_duplicate_node_id 1$/m);
      expect((await get(first, '/metrics')).text).toMatch(/^hastate_duplicate_node_id 0$/m);

      // The first dies: the twin is no duplicate any more and joins on its own (its member
      // entry expires with the dead process's TTL).
      await first.kill('SIGKILL');
      await twin.waitForStatus('a role after the first died', (s) => s.role === 'primary' || s.role === 'standby', TTL_MS + 2 * RETRY_MS + SLACK_MS);
      await other.waitForStatus('one primary again', (s) => s.role === 'primary' || s.primaryId === 'node-1', TTL_MS + 2 * RETRY_MS + SLACK_MS);
      expect((await get(twin, '/healthz')).status).toBe(200);
      expect((await get(twin, '/metrics')).text).toMatch(/^hastate_duplicate_node_id 0$/m);
    }, 90_000);
  });
}
