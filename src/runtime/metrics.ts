/**
 * Prometheus metrics for one node (prom-client, own registry). They cover the seed design's
 * monitoring list (section 8.2): current role, heartbeat delay, last heartbeat time,
 * switch counts, plus what operators of keepalived-style setups expect.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HaNode } from './node.ts';

const ROLES = ['unknown', 'electing', 'primary', 'standby'] as const;

export interface NodeMetrics {
  registry: Registry;
  /** Called by the notify-hook runner when a hook fails or times out. */
  notifyHookFailed(transition: string): void;
  render(): Promise<{ contentType: string; body: string }>;
  stop(): void;
}

export function createNodeMetrics(node: HaNode): NodeMetrics {
  const registry = new Registry();
  const stats = node.transportStats;

  new Gauge({
    name: 'hastate_role',
    help: 'Current role of this node: 1 for the current role, 0 for the others.',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const role = node.status().role;
      for (const r of ROLES) this.set({ role: r }, r === role ? 1 : 0);
    },
  });
  new Gauge({ name: 'hastate_epoch', help: 'Current election term known to this node.', registers: [registry], collect() { this.set(node.status().epoch); } });
  const roleChanges = new Counter({ name: 'hastate_role_changes_total', help: 'Role changes by from and to role.', labelNames: ['from', 'to'], registers: [registry] });
  const unsubscribe = node.onRoleChange((c) => {
    if (c.from !== c.to) roleChanges.inc({ from: c.from, to: c.to });
  });
  // Counters mirrored from the transport's own counts at scrape time (reset + inc keeps them exact).
  new Counter({ name: 'hastate_datagrams_sent_total', help: 'Datagrams sent (heartbeats, announcements, declarations).', registers: [registry], collect() { this.reset(); this.inc(stats.sent); } });
  new Counter({ name: 'hastate_datagrams_received_total', help: 'Datagrams received on the heartbeat port, valid or not.', registers: [registry], collect() { this.reset(); this.inc(stats.received); } });
  new Counter({
    name: 'hastate_primary_heartbeats_received_total',
    help: 'Heartbeats received from nodes claiming primary.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(primaryHeartbeats);
    },
  });
  new Counter({
    name: 'hastate_datagrams_dropped_total',
    help: 'Datagrams dropped, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(stats.dropped)) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: 'hastate_last_primary_heartbeat_age_seconds',
    help: 'Seconds since the last heartbeat from another node claiming primary; -1 when none was heard or this node is primary.',
    registers: [registry],
    collect() {
      const age = node.status().lastPrimaryHeartbeatAgeMs;
      this.set(age === null ? -1 : age / 1000);
    },
  });
  const interArrival = new Histogram({
    name: 'hastate_primary_heartbeat_interarrival_seconds',
    help: 'Time between consecutive heartbeats from the same primary, as received.',
    buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 3, 4, 6, 9, 15, 30],
    registers: [registry],
  });
  const lastFrom = new Map<string, number>();
  let primaryHeartbeats = 0;
  const onMessage = (m: { nodeId: string; role: string; type: string }, nowMs: number) => {
    if (m.role !== 'primary' || m.type !== 'heartbeat') return;
    primaryHeartbeats++;
    const last = lastFrom.get(m.nodeId);
    if (last !== undefined) interArrival.observe((nowMs - last) / 1000);
    if (last === undefined && lastFrom.size >= 64) lastFrom.clear(); // bounded against forged ids
    lastFrom.set(m.nodeId, nowMs);
  };
  stats.messageListeners.add(onMessage);

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  new Gauge({
    name: 'hastate_event_loop_delay_seconds',
    help: 'Event-loop delay percentiles since start (a stalled loop delays heartbeats).',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      for (const q of [50, 90, 99, 100]) this.set({ quantile: String(q / 100) }, loopDelay.percentile(q) / 1e9);
    },
  });
  new Counter({
    name: 'hastate_service_restarts_total',
    help: 'Restarts of each supervised service after failures.',
    labelNames: ['service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of node.status().services) this.inc({ service: s.name }, s.restarts);
    },
  });
  const hookFailures = new Counter({ name: 'hastate_notify_hook_failures_total', help: 'Notify hooks that failed or timed out, by transition.', labelNames: ['transition'], registers: [registry] });

  return {
    registry,
    notifyHookFailed: (transition) => hookFailures.inc({ transition }),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    stop: () => {
      unsubscribe();
      stats.messageListeners.delete(onMessage);
      loopDelay.disable();
    },
  };
}
