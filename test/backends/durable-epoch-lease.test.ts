/**
 * The durable epoch on the redis backend with a real redis-server that loses its token counter
 * (restarted without persistence, as the test servers run): the coordinator's token stays the
 * epoch, and a node restarted afterwards campaigns above its durable epoch, so its token does
 * not go back and a fenced store keeps accepting its writes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stopAll, type NodeProcess } from '../integration/cluster.ts';
import { FenceStore } from './fence-store.ts';
import { startLeaseNode } from './lease-cluster.ts';
import { have, RedisServer } from './servers.ts';

const DEADLINE_MS = 20_000;
let nodes: NodeProcess[] = [];
let server: RedisServer | null = null;
let fence: FenceStore | null = null;
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
  await fence?.close();
  await server?.destroy();
  server = null;
});

describe.skipIf(!have('redis-server'))('durable epoch on redis', () => {
  it('after redis restarts without its token counter, a restarted node leads above every token it held or saw and its fenced writes are accepted', async () => {
    server = await RedisServer.create();
    fence = new FenceStore();
    const fenceUrl = await fence.listen();
    const prefix = `hs-epoch-${Math.random().toString(36).slice(2, 8)}`;
    const dirs = [mkdtempSync(join(tmpdir(), 'hastate-state-1-')), mkdtempSync(join(tmpdir(), 'hastate-state-2-'))];
    const start = async (i: number) => {
      const n = await startLeaseNode({ nodeId: `node-${i + 1}`, backend: 'redis', url: server!.url, prefix, fenceUrl, stateDir: dirs[i]! });
      nodes.push(n);
      return n;
    };

    const one = await start(0);
    expect((await one.waitForRole('primary', DEADLINE_MS)).epoch).toBe(1);
    const two = await start(1);
    await two.waitForRole('standby', DEADLINE_MS);
    await one.kill();
    expect((await two.waitForRole('primary', DEADLINE_MS)).epoch).toBe(2);
    await vi.waitFor(() => expect(fence!.highest).toBe(2), { timeout: DEADLINE_MS });
    await two.kill();

    // redis loses the lease and its counter: the next INCR would hand out token 1 again.
    await server.kill();
    await server.start();

    const rejectedBefore = fence.rejected.length;
    const again = await start(1);
    const lead = await again.waitForRole('primary', DEADLINE_MS);
    expect(lead.epoch).toBeGreaterThan(2);
    await vi.waitFor(() => expect(fence!.accepted.some((w) => w.nodeId === 'node-2' && w.token === lead.epoch)).toBe(true), { timeout: DEADLINE_MS });
    expect(fence.rejected.slice(rejectedBefore)).toEqual([]);
  }, 90_000);
});
