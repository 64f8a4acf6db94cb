/**
 * A seed-design newcomer next to a real hastate primary. The seed's `InitialElection` only
 * counts primary heartbeats during its window, so a primary that answered an announcement with
 * a declaration alone was missed whenever no regular heartbeat fell into the window.
 *
 * Timing is the seed's defaults (3 s heartbeats, 2 s window) scaled by 1/10, ratio kept:
 * 300 ms heartbeats, 200 ms window. The announcement is sent at eight phases spread over the
 * heartbeat interval (one per eighth, at a random point within it), including right after a
 * heartbeat, where the next regular one is 300 ms away, outside the window.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { randomNetwork, startNode } from './cluster.ts';
import { nodesStoppedAfterEach, STARTUP_MS } from './pair.ts';
import { seedInitialElection } from './seed-peer.ts';

const SCALE = 0.1;
const INTERVAL_MS = 3_000 * SCALE;
const SEED_WINDOW_MS = 2_000 * SCALE;
const TRIALS = 8;

const nodes = nodesStoppedAfterEach();

/** Resolves at the next primary heartbeat from `nodeId` seen on the group, or rejects at the deadline. */
function nextHeartbeat(socket: dgram.Socket, nodeId: string, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: Buffer) => {
      const id = msg.subarray(20, 52).toString('ascii').replace(/\0.*$/s, '');
      if (msg.length === 52 && msg.readUInt8(2) === 2 && msg.readUInt8(3) === 1 && id === nodeId) {
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve();
      }
    };
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`no heartbeat from ${nodeId} within ${deadlineMs} ms`));
    }, deadlineMs);
    socket.on('message', onMessage);
  });
}

describe('a seed-design newcomer next to a hastate primary', () => {
  it(`finds the primary ${TRIALS} times in ${TRIALS}, whatever the phase of its announcement`, async () => {
    const net = randomNetwork();
    const primary = await startNode({ ...net, nodeId: '127.0.0.2', intervalSeconds: INTERVAL_MS / 1000, timeoutSeconds: (3 * INTERVAL_MS) / 1000 });
    nodes.push(primary);
    await primary.waitForRole('primary', STARTUP_MS);

    const monitor = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => monitor.bind({ port: net.port, address: net.group }, resolve));
    monitor.addMembership(net.group, '127.0.0.1');
    try {
      const results = [];
      for (let k = 0; k < TRIALS; k++) {
        await nextHeartbeat(monitor, primary.nodeId, 3 * INTERVAL_MS + 2_000);
        const phaseMs = ((k + Math.random()) / TRIALS) * INTERVAL_MS;
        await new Promise((r) => setTimeout(r, phaseMs));
        const election = await seedInitialElection({ ...net, nodeId: `127.0.0.${50 + k}`, windowMs: SEED_WINDOW_MS });
        results.push({ phaseMs: Math.round(phaseMs), ...election });
      }
      console.log(results.map((r) => `phase ${r.phaseMs} ms -> ${r.decision}`).join('\n'));
      expect(results.filter((r) => r.decision === 'standby').length, JSON.stringify(results)).toBe(TRIALS);
      expect(results.every((r) => r.heartbeatFrom === primary.nodeId)).toBe(true);
      // The primary stayed primary: seed newcomers did not disturb it.
      expect((await primary.status()).role).toBe('primary');
    } finally {
      monitor.close();
    }
  }, 60_000);
});
