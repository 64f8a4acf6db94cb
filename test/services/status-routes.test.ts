import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.ts';
import { createNodeMetrics } from '../../src/runtime/metrics.ts';
import { HaNode } from '../../src/runtime/node.ts';
import { statusService } from '../../src/services/status-server.ts';
import { liveViewPage } from '../../src/web/live-view.ts';
import { randomNetwork } from '../integration/cluster.ts';

const silent = pino({ level: 'silent' });
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function liveNode() {
  const net = randomNetwork();
  const config = parseConfigText(
    `ha:\n  multicast_group: ${net.group}\n  interface: 127.0.0.1\n  node_id: 127.0.0.7\n  election_window_seconds: 0.1\n  heartbeat:\n    port: ${net.port}\n    interval_seconds: 0.05\n    timeout_seconds: 0.15\nstatus:\n  enabled: false\n`,
    't.yaml',
    { env: {} },
  );
  const node = new HaNode({ config, logger: silent });
  const metrics = createNodeMetrics(node);
  const roles: object[] = [];
  let onResignCalls = 0;
  const svc = statusService({
    host: '127.0.0.1',
    port: 0,
    getStatus: () => node.status(),
    getMetrics: () => metrics.render(),
    onResign: async () => {
      onResignCalls++;
      return node.resign();
    },
    subscribe: (l) => node.onRoleChange((c) => {
      roles.push(c);
      l(c);
    }),
    page: liveViewPage,
  });
  await svc.start!({} as never);
  cleanup.push(async () => {
    await svc.stop!({} as never);
    metrics.stop();
    await node.stop(500);
  });
  const base = `http://127.0.0.1:${svc.address()!.port}`;
  return { node, base, resignCalls: () => onResignCalls };
}

async function until(what: string, probe: () => Promise<boolean> | boolean, deadlineMs = 5000) {
  const end = performance.now() + deadlineMs;
  while (!(await probe())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('status server: metrics, resign, events, live view', () => {
  it('GET /metrics exposes the monitoring families with live values', async () => {
    const { node, base } = await liveNode();
    node.start();
    await until('primary', () => node.status().role === 'primary');
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const body = await res.text();
    for (const family of [
      'hastate_role', 'hastate_epoch', 'hastate_role_changes_total', 'hastate_datagrams_sent_total', 'hastate_datagrams_received_total',
      'hastate_primary_heartbeats_received_total', 'hastate_datagrams_dropped_total', 'hastate_last_primary_heartbeat_age_seconds',
      'hastate_primary_heartbeat_interarrival_seconds', 'hastate_event_loop_delay_seconds', 'hastate_service_restarts_total', 'hastate_notify_hook_failures_total',
    ]) expect(body, family).toContain(`# TYPE ${family} `);
    expect(body).toContain('hastate_role{role="primary"} 1');
    expect(body).toContain('hastate_epoch 1');
    expect(body).toContain('hastate_role_changes_total{from="electing",to="primary"} 1');
  });

  it('POST /resign hands over; GET /resign is 405', async () => {
    const { node, base, resignCalls } = await liveNode();
    node.start();
    await until('primary', () => node.status().role === 'primary');
    expect((await fetch(`${base}/resign`)).status).toBe(405);
    const res = await fetch(`${base}/resign`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ resigned: true, role: 'standby' });
    expect(resignCalls()).toBe(1);
  });

  it('GET /events streams status snapshots and role changes', async () => {
    const { node, base } = await liveNode();
    const controller = new AbortController();
    const res = await fetch(`${base}/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    node.start();
    let text = '';
    const decoder = new TextDecoder();
    await until('a role event to primary', async () => {
      const { value } = await reader.read();
      text += decoder.decode(value);
      return /event: role\ndata: .*"to":"primary"/.test(text);
    });
    expect(text).toMatch(/event: status\ndata: \{"nodeId":"127\.0\.0\.7"/);
    controller.abort();
  });

  it('GET / serves a self-contained page: the diagram inline and no external URLs', async () => {
    const { base } = await liveNode();
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="state-primary"');
    expect(html).toContain("new EventSource('/events')");
    const external = html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '').match(/https?:\/\//g);
    expect(external).toBeNull();
  });
});
