/** The status server wired to real HaNodes on loopback multicast: metrics, resign, events, live view. */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.ts';
import { countNotifyHookFailure, createNodeMetrics } from '../../src/runtime/metrics.ts';
import { HaNode } from '../../src/runtime/node.ts';
import { VERSION } from '../../src/runtime/version.ts';
import { statusService } from '../../src/services/status-server.ts';
import { randomNetwork } from '../integration/cluster.ts';
import { until } from '../until.ts';
import { openEvents } from './helpers.ts';

const silent = pino({ level: 'silent' });
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function nodeConfig(net: { group: string; port: number }, nodeId: string) {
  return parseConfigText(
    `ha:\n  multicast_group: ${net.group}\n  interface: 127.0.0.1\n  node_id: ${nodeId}\n  election_window_seconds: 0.1\n  heartbeat:\n    port: ${net.port}\n    interval_seconds: 0.05\n    timeout_seconds: 0.15\nstatus:\n  enabled: false\n`,
    't.yaml',
    { env: {} },
  );
}

/** A node with metrics and the status server wired the way run-command wires them. */
async function liveNode(net = randomNetwork(), nodeId = '127.0.0.7') {
  const node = new HaNode({ config: nodeConfig(net, nodeId), logger: silent });
  const metrics = createNodeMetrics(node, { eventLoopSampleMs: 10 });
  let resignCalls = 0;
  const svc = statusService({
    host: '127.0.0.1',
    port: 0,
    getStatus: () => node.status(),
    getMetrics: () => metrics.render(),
    onResign: async () => {
      resignCalls++;
      return node.resign();
    },
    subscribe: (l) => node.onRoleChange(l),
  });
  await svc.start!({} as never);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await svc.stop!({} as never);
    metrics.stop();
    await node.stop(500);
  };
  cleanup.push(stop);
  const base = `http://127.0.0.1:${svc.address()!.port}`;
  return { node, metrics, base, stop, resignCalls: () => resignCalls };
}

/** A (127.0.0.7) primary, then B (127.0.0.8) standby, on one fresh network. */
async function primaryAndStandby() {
  const net = randomNetwork();
  const a = await liveNode(net, '127.0.0.7');
  const b = await liveNode(net, '127.0.0.8');
  a.node.start();
  await until('A primary', () => a.node.status().role === 'primary');
  b.node.start();
  await until('B standby', () => b.node.status().role === 'standby');
  return { a, b };
}

/** `name{labels} value` lines of an exposition, keyed by `name{labels}`. */
function samples(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const FAMILIES = [
  'hastate_info', 'hastate_role', 'hastate_epoch', 'hastate_role_changes_total', 'hastate_transport_up',
  'hastate_datagrams_sent_total', 'hastate_datagram_send_errors_total', 'hastate_datagrams_received_total',
  'hastate_primary_heartbeats_received_total', 'hastate_datagrams_dropped_total', 'hastate_peers',
  'hastate_last_primary_heartbeat_age_seconds', 'hastate_primary_heartbeat_interarrival_seconds',
  'hastate_event_loop_lag_seconds', 'hastate_service_restarts_total', 'hastate_notify_hook_failures_total',
  'hastate_duplicate_node_id',
];

describe('status server on a real node', () => {
  it('GET /metrics exposes every monitoring family with sane values across a standby -> primary takeover', async () => {
    const { a, b } = await primaryAndStandby();
    await until('B hears several heartbeats', () => (b.node.status().peers[0]?.lastSeenAgeMs ?? 1e9) < 100 && b.node.status().packets.received > 8);
    await new Promise((r) => setTimeout(r, 200));

    let res = await fetch(`${b.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    let body = await res.text();
    for (const family of FAMILIES) expect(body, family).toMatch(new RegExp(`^# TYPE ${family} (gauge|counter|histogram)$`, 'm'));
    let s = samples(body);
    expect(s.get('hastate_role{role="standby"}')).toBe(1);
    expect(s.get('hastate_role{role="primary"}')).toBe(0);
    expect(s.get('hastate_epoch')).toBe(1);
    expect(s.get('hastate_role_changes_total{from="electing",to="standby"}')).toBe(1);
    expect(s.get('hastate_transport_up')).toBe(1);
    expect(s.get('hastate_peers')).toBe(1);
    expect(s.get('hastate_primary_heartbeats_received_total')).toBeGreaterThanOrEqual(3);
    expect(s.get('hastate_datagrams_received_total')).toBeGreaterThan(s.get('hastate_primary_heartbeats_received_total')! - 1);
    expect(s.get('hastate_datagrams_dropped_total{reason="magic"}')).toBe(0);
    const age = s.get('hastate_last_primary_heartbeat_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(0.15);
    // Heartbeats every 50 ms: the inter-arrival histogram has observations, and their mean is near 50 ms.
    const count = s.get('hastate_primary_heartbeat_interarrival_seconds_count')!;
    const mean = s.get('hastate_primary_heartbeat_interarrival_seconds_sum')! / count;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(mean).toBeGreaterThan(0.02);
    expect(mean).toBeLessThan(0.15);
    expect(s.get('hastate_event_loop_lag_seconds_count')).toBeGreaterThan(3);
    expect(s.get('hastate_notify_hook_failures_total')).toBe(0);
    expect(s.get(`hastate_info{node_id="127.0.0.8",version="${VERSION}"}`)).toBe(1);

    // A hands over on stop: B switches standby -> primary in a new epoch.
    await a.stop();
    await until('B primary', () => b.node.status().role === 'primary');
    b.metrics.notifyHookFailed('primary');
    countNotifyHookFailure(b.node);
    res = await fetch(`${b.base}/metrics`);
    body = await res.text();
    s = samples(body);
    expect(s.get('hastate_role{role="primary"}')).toBe(1);
    expect(s.get('hastate_role{role="standby"}')).toBe(0);
    expect(s.get('hastate_epoch')).toBe(2);
    expect(s.get('hastate_role_changes_total{from="electing",to="standby"}')).toBe(1);
    expect(s.get('hastate_role_changes_total{from="standby",to="primary"}')).toBe(1);
    expect(s.get('hastate_last_primary_heartbeat_age_seconds')).toBe(-1);
    expect(s.get('hastate_datagrams_sent_total')).toBeGreaterThan(0);
    expect(s.get('hastate_notify_hook_failures_total')).toBe(2);
  });

  it('POST /resign hands the primary role over through onResign', async () => {
    const { node, base, resignCalls } = await liveNode();
    node.start();
    await until('primary', () => node.status().role === 'primary');
    const res = await fetch(`${base}/resign`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ resigned: true, role: 'standby' });
    expect(resignCalls()).toBe(1);
  });

  it('GET /events streams the node\'s role changes and status snapshots', async () => {
    const { node, base } = await liveNode();
    const events = await openEvents(base);
    cleanup.push(events.close);
    node.start();
    const role = await events.next('role change to primary', (e) => e.type === 'role' && (e.data as { to: string }).to === 'primary');
    expect(role.data).toMatchObject({ from: 'electing', to: 'primary', epoch: 1, primaryId: '127.0.0.7' });
    const status = await events.next('status as primary', (e) => e.type === 'status' && (e.data as { role: string }).role === 'primary');
    expect(status.data).toMatchObject({ nodeId: '127.0.0.7', epoch: 1, statePaths: ['primary.beating'] });
  });

  it('metrics.stop() detaches from the node', async () => {
    const { node, metrics } = await liveNode();
    const listeners = node.transportStats.messageListeners.size;
    metrics.stop();
    metrics.stop();
    expect(node.transportStats.messageListeners.size).toBe(listeners - 1);
  });

  it('a peer that falls silent ages out of status, metrics and the transport table together', async () => {
    const { a, b } = await primaryAndStandby();
    await until('A lists B', () => a.node.status().peers.some((p) => p.nodeId === '127.0.0.8' && p.role === 'standby'));
    expect(samples(await (await fetch(`${a.base}/metrics`)).text()).get('hastate_peers')).toBe(1);
    // A standby stops without a word: only silence tells A.
    await b.stop();
    await expect.poll(() => a.node.status().peers, { timeout: 5_000, interval: 20 }).toEqual([]);
    expect(samples(await (await fetch(`${a.base}/metrics`)).text()).get('hastate_peers')).toBe(0);
    expect(a.node.transportStats.peers.has('127.0.0.8')).toBe(false);
    expect(a.node.status().role).toBe('primary');
  });
});
