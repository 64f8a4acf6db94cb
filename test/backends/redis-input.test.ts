/**
 * The Redis backend meets values it did not write: a foreign value in the lease key and junk
 * on the events channel are counted and logged, never crash the node, and never make it primary.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.ts';
import { HaNode } from '../../src/runtime/node.ts';
import { until } from '../until.ts';
import { have, RedisServer } from './servers.ts';

describe.skipIf(!have('redis-server'))('redis backend, bad data in Redis', () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await RedisServer.create();
    client = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    client.disconnect();
    await server.destroy();
  });

  it('a foreign lease value and junk events are dropped by reason; the node stays out of primary', async () => {
    await client.set('junk-test:leader', 'not-a-hastate-lease', 'PX', 60_000);
    const config = parseConfigText(
      `ha:\n  backend: redis\n  node_id: n1\n  interface: 127.0.0.1\n  redis:\n    url: ${server.url}\n    key_prefix: junk-test\n  lease:\n    ttl_seconds: 1\n    renew_deadline_seconds: 0.6\n    retry_period_seconds: 0.1\nstatus:\n  enabled: false\n`,
      'junk.yaml',
      { env: {} },
    );
    const node = new HaNode({ config, logger: pino({ level: 'silent' }) });
    node.start();
    try {
      const dropped = () => JSON.stringify(node.status().droppedPackets);
      await until('bad-lease drops', () => (node.status().droppedPackets.byReason['bad-lease'] ?? 0) >= 2, { intervalMs: 20, context: dropped });
      await client.publish('junk-test:events', 'acquired nonsense');
      await client.publish('junk-test:events', '');
      await until('bad-event drops', () => (node.status().droppedPackets.byReason['bad-event'] ?? 0) === 2, { intervalMs: 20, context: dropped });
      expect(node.status().role).not.toBe('primary');
      // Once the foreign value is gone, the node takes the lease as usual.
      await client.del('junk-test:leader');
      await until('primary', () => node.status().role === 'primary', { intervalMs: 20, context: dropped });
      expect(node.status().epoch).toBeGreaterThan(0);
    } finally {
      await node.stop(1_000);
    }
  });
});
