/**
 * Losing the coordinator is a fault, as losing the socket is under multicast: real redis-server
 * and etcd processes killed under a primary and a standby (real node processes). Both go to
 * `unknown` once the coordinator has been unreachable for the renew deadline, run notify.fault
 * (a hook appending to a file), answer /healthz with 503 naming the reason; when the server
 * comes back they campaign on their own and one of them leads in a term above the old one.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../integration/cluster.ts';
import { FenceStore } from './fence-store.ts';
import { LEASE, startLeaseNode, stopLeaseCluster } from './lease-cluster.ts';
import { BACKENDS, type TestServer } from './servers.ts';

const STARTUP_MS = 20_000;
/** Scheduling noise on a loaded 2-core machine, added to every bound the design states. */
const SLACK_MS = 2_000;
const DEADLINE_MS = LEASE.renewDeadlineSeconds * 1000;

async function healthz(n: NodeProcess): Promise<{ code: number; body: { role?: string; reason?: string } }> {
  const res = await fetch(`http://127.0.0.1:${n.statusPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
  return { code: res.status, body: (await res.json()) as { role?: string; reason?: string } };
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`backend ${backend.name}: the coordinator lost`, () => {
    let server: TestServer;
    let store: FenceStore;
    let nodes: NodeProcess[] = [];
    const faultFile = (n: NodeProcess) => join(dir, `${n.nodeId}.fault`);
    let dir = '';

    beforeEach(async () => {
      server = await backend.create();
      store = new FenceStore();
      dir = mkdtempSync(join(tmpdir(), 'hastate-fault-'));
      const prefix = backend.name === 'redis' ? `hs-fault-${Math.random().toString(36).slice(2, 8)}` : `/hs-fault/${Math.random().toString(36).slice(2, 8)}`;
      const fenceUrl = await store.listen();
      nodes = await Promise.all(
        ['node-1', 'node-2'].map((nodeId) =>
          // The hook gets role, epoch and node id as $1 $2 $3.
          startLeaseNode({ nodeId, backend: backend.name, url: server.url, prefix, fenceUrl, notifyFault: `echo "$1 $2 $3" >> ${JSON.stringify(join(dir, `${nodeId}.fault`))}` }),
        ),
      );
    });
    afterEach(() => stopLeaseCluster(nodes, store, server));

    it('primary and standby go to unknown, run notify.fault, answer /healthz 503; after a restart one primary in a higher term', async () => {
      const primary = await eventually(() => nodes.find((n) => n.currentRole() === 'primary'), STARTUP_MS);
      const standby = nodes.find((n) => n !== primary)!;
      await standby.waitForRole('standby', STARTUP_MS);
      const oldEpoch = primary.roleChanges().at(-1)!.epoch as number;
      expect(await healthz(primary)).toMatchObject({ code: 200 });

      const t0 = performance.now();
      await server.kill();
      // The primary still steps down at its renew deadline, as before; then the fault.
      const down = await primary.waitForLog('step-down', (l) => l.event === 'role-change' && l.from === 'primary', DEADLINE_MS + SLACK_MS);
      expect(down.seenAtMs - t0).toBeLessThan(DEADLINE_MS + SLACK_MS);
      const faultMs: string[] = [];
      for (const n of nodes) {
        // The coordinator actor reports the loss at once (connection closed / request failed);
        // the fault follows one renew deadline later.
        const fault = await n.waitForRole('unknown', 2 * DEADLINE_MS + SLACK_MS);
        expect(fault.seenAtMs - t0).toBeLessThan(2 * DEADLINE_MS + SLACK_MS);
        expect(fault.reason).toMatch(/^coordinator lost: unreachable for 600 ms/);
        faultMs.push(`${n === primary ? 'primary' : 'standby'} ${Math.round(fault.seenAtMs - t0)} ms`);
        const h = await healthz(n);
        expect(h.code).toBe(503);
        expect(h.body).toMatchObject({ role: 'unknown', reason: expect.stringMatching(/^coordinator lost/) });
        const st = await n.status();
        expect(st.role).toBe('unknown');
        expect(st.transport.up).toBe(false);
      }
      for (const n of nodes) {
        await expect.poll(() => existsSync(faultFile(n)), { timeout: 5_000 }).toBe(true);
        expect(readFileSync(faultFile(n), 'utf8').trim().split('\n')[0]).toMatch(new RegExp(`^unknown \\d+ ${n.nodeId}$`));
      }
      // The quiet window is the assertion: nobody leads, and nobody leaves the fault, while the
      // server is gone (a node that did would campaign and could reach primary within it).
      await new Promise((r) => setTimeout(r, 2 * DEADLINE_MS));
      expect(nodes.map((n) => n.currentRole())).toEqual(['unknown', 'unknown']);

      const t1 = performance.now();
      await server.start();
      const p = await eventually(() => nodes.find((n) => n.currentRole() === 'primary'), STARTUP_MS);
      const other = nodes.find((n) => n !== p)!;
      await expect.poll(() => other.currentRole(), { timeout: STARTUP_MS }).toBe('standby');
      expect(p.roleChanges().at(-1)!.epoch as number).toBeGreaterThan(oldEpoch);
      expect((await healthz(p)).code).toBe(200);
      expect((await healthz(other)).code).toBe(200);
      console.info(`${backend.name}: after the kill, step-down ${Math.round(down.seenAtMs - t0)} ms, fault ${faultMs.join(', ')}; primary again ${Math.round(performance.now() - t1)} ms after the restart began (epoch ${oldEpoch} -> ${p.roleChanges().at(-1)!.epoch})`);
      // One fault each: the hook ran once per loss, not on every retry.
      for (const n of nodes) expect(readFileSync(faultFile(n), 'utf8').trim().split('\n')).toHaveLength(1);
    });

    it('a paused server (connection open, requests time out) is lost the same way; SIGCONT brings one primary back', async () => {
      const primary = await eventually(() => nodes.find((n) => n.currentRole() === 'primary'), STARTUP_MS);
      const standby = nodes.find((n) => n !== primary)!;
      await standby.waitForRole('standby', STARTUP_MS);
      const from = nodes.map((n) => n.logs.length);
      const t0 = performance.now();
      server.pause();
      // A failed request is reported at once (each is bounded by the retry period, 150 ms here).
      for (const [i, n] of nodes.entries()) {
        const fault = await n.waitForRole('unknown', 2 * DEADLINE_MS + SLACK_MS, from[i]);
        expect(fault.seenAtMs - t0).toBeLessThan(2 * DEADLINE_MS + SLACK_MS);
        expect(fault.reason).toMatch(/^coordinator lost: unreachable for 600 ms/);
        expect((await healthz(n)).code).toBe(503);
        await expect.poll(() => existsSync(faultFile(n)), { timeout: 5_000 }).toBe(true);
      }
      server.resume();
      const p = await eventually(() => nodes.find((n) => n.currentRole() === 'primary'), STARTUP_MS);
      await expect.poll(() => nodes.find((n) => n !== p)!.currentRole(), { timeout: STARTUP_MS }).toBe('standby');
      expect((await healthz(p)).code).toBe(200);
    });
  });
}

/** Polls `probe` until it returns a value, or fails at the deadline. */
async function eventually<T>(probe: () => T | undefined, deadlineMs: number): Promise<T> {
  let found: T | undefined;
  await expect.poll(() => (found = probe()) !== undefined, { timeout: deadlineMs, interval: 10 }).toBe(true);
  return found!;
}
