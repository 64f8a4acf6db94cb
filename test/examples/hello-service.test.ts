/** The README's service example, run as a real node process on real loopback multicast. */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort, randomNetwork, spawnNode, stopAll, type NodeProcess } from '../integration/cluster.ts';

const EXAMPLE = join(import.meta.dirname, '../../examples/hello-service.ts');
const nodes: NodeProcess[] = [];
afterEach(() => stopAll(nodes.splice(0)));

it('logs its greeting only once the node is primary, with the epoch, and stops cleanly on SIGTERM', async () => {
  const { group, port } = randomNetwork();
  const spec = { nodeId: '127.0.0.1', group, port };
  const haLines = ['ha:', `  multicast_group: ${group}`, '  interface: 127.0.0.1', '  node_id: 127.0.0.1', '  election_window_seconds: 0.3', '  heartbeat:', `    port: ${port}`];
  const node = spawnNode(spec, await freePort(), haLines, (file) => [EXAMPLE, file]);
  nodes.push(node);

  const primary = await node.waitForRole('primary', 10_000);
  const hello = (l: { msg: string }) => l.msg === 'hello from the primary';
  const first = await node.waitForLog('a greeting', hello, 10_000);
  expect(first.epoch).toBe(primary.epoch);
  // Nothing was greeted before the node became primary.
  expect(node.logs.indexOf(first)).toBeGreaterThan(node.logs.indexOf(primary));
  const before = node.logs.length;
  await node.waitForLog('a second greeting', hello, 10_000, before);

  expect(await node.kill('SIGTERM')).toBe(0);
}, 45_000);
