import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.ts';
import { HaNode, type RoleChange } from '../../src/runtime/node.ts';
import { defineService, type RoleTransition } from '../../src/services/types.ts';
import { randomNetwork } from '../integration/cluster.ts';
import { until } from '../until.ts';

const silent = pino({ level: 'silent' });
let nodes: HaNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop(1000)));
  nodes = [];
});

function config(extra = '') {
  const net = randomNetwork();
  return parseConfigText(
    `ha:\n  multicast_group: ${net.group}\n  interface: 127.0.0.1\n  node_id: 127.0.0.5\n  election_window_seconds: 0.1\n  heartbeat:\n    port: ${net.port}\n    interval_seconds: 0.05\n    timeout_seconds: 0.15\n${extra}status:\n  enabled: false\n`,
    'test.yaml',
    { env: {} },
  );
}

describe('HaNode', () => {
  it('a lone node on real multicast becomes primary and reports it in status and to listeners', async () => {
    const node = new HaNode({ config: config(), logger: silent });
    nodes.push(node);
    const changes: RoleChange[] = [];
    node.onRoleChange((c) => changes.push(c));
    node.start();
    await until('primary', () => (node.status().role === 'primary' ? true : undefined));
    const s = node.status();
    expect(s).toMatchObject({ nodeId: '127.0.0.5', role: 'primary', epoch: 1, primaryId: '127.0.0.5', lastPrimaryHeartbeatAgeMs: null });
    expect(s.transport.up).toBe(true);
    expect(changes.map((c) => c.to)).toEqual(['electing', 'primary']);
  });

  it('a service that throws is restarted with backoff, its failure is visible, and the node keeps its role', async () => {
    let calls = 0;
    const seen: RoleTransition[] = [];
    const flaky = defineService({
      name: 'flaky',
      onRoleChange(t) {
        calls++;
        if (calls <= 2) throw new Error(`boom ${calls}`);
        seen.push(t);
      },
    });
    const node = new HaNode({ config: config(), logger: silent, services: [flaky] });
    nodes.push(node);
    node.start();
    const svc = await until('restarts', () => {
      const s = node.status().services.find((x) => x.name === 'flaky');
      return s && s.restarts >= 2 && s.state === 'running' && seen.length > 0 ? s : undefined;
    });
    expect(svc.lastError).toBe('boom 2');
    expect(node.status().role).toBe('primary');
    // The restarted instance is told the node's current state first.
    expect(seen.at(-1)?.to).toBe('primary');
  });

  it('ha.enabled: false acts as primary without touching the network', async () => {
    const node = new HaNode({ config: config('  enabled: false\n'), logger: silent });
    nodes.push(node);
    node.start();
    await until('primary', () => (node.status().role === 'primary' ? true : undefined));
    expect(node.status().packets.sent).toBe(0);
  });

  it('an interface address this host does not have keeps the node in unknown, retrying, with the error in status', async () => {
    const node = new HaNode({ config: parseConfigText(`ha:\n  interface: 192.0.2.55\n  node_id: n1\nstatus:\n  enabled: false\n`, 't.yaml', { env: {} }), logger: silent });
    nodes.push(node);
    node.start();
    const s = await until('transport error', () => (node.status().transport.lastError ? node.status() : undefined));
    expect(s.role).toBe('unknown');
    expect(s.transport.up).toBe(false);
    expect(s.transport.lastError).toMatch(/192\.0\.2\.55/);
  });

  it('an inspect observer sees the whole actor system (what --inspect connects to the Stately inspector)', async () => {
    const types = new Set<string>();
    const ids = new Set<string>();
    const node = new HaNode({
      config: config(),
      logger: silent,
      services: [defineService({ name: 'probe' })],
      inspect: (e) => {
        types.add(e.type);
        if (e.type === '@xstate.actor') ids.add((e.actorRef as unknown as { id: string }).id);
      },
    });
    nodes.push(node);
    node.start();
    await until('primary', () => (node.status().role === 'primary' ? true : undefined));
    expect([...types].sort()).toEqual(['@xstate.action', '@xstate.actor', '@xstate.event', '@xstate.microstep', '@xstate.snapshot'].filter((t) => types.has(t)));
    expect(types.has('@xstate.snapshot')).toBe(true);
    expect(ids.has('transport')).toBe(true);
    expect(ids.has('service:probe')).toBe(true);
  });

  it('resign() hands a primary over: it becomes standby and tells its peers it is leaving', async () => {
    const node = new HaNode({ config: config(), logger: silent });
    nodes.push(node);
    node.start();
    await until('primary', () => (node.status().role === 'primary' ? true : undefined));
    const sentBefore = node.status().packets.sent;
    const result = await node.resign();
    expect(result).toMatchObject({ resigned: true, role: 'standby' });
    expect(node.status().packets.sent).toBeGreaterThanOrEqual(sentBefore + 2);
  });
});
