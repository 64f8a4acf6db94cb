/**
 * Prometheus metrics for one node (prom-client, its own registry, never the global one).
 *
 * They cover the seed design's monitoring list (section 8.2):
 *   current role            hastate_role{role}, hastate_epoch
 *   heartbeat delay         hastate_primary_heartbeat_interarrival_seconds (histogram),
 *                           hastate_event_loop_lag_seconds (histogram: a stalled loop delays heartbeats)
 *   last heartbeat time     hastate_last_primary_heartbeat_age_seconds
 *   switch counts           hastate_role_changes_total{from,to}
 * plus what operators of keepalived-style setups expect: datagrams sent/received/dropped by
 * reason, send errors, peers heard, service restarts and notify hook failures.
 *
 * Counters that mirror the transport's own counts are set at scrape time (reset + inc), so
 * they are exact and cost nothing between scrapes.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DROP_REASONS, type HaMessage } from '../transport/codec.ts';
import { AUTH_DROP_REASONS } from '../transport/auth.ts';
import type { HaNode } from './node.ts';
import { VERSION } from './version.ts';

const ROLES = ['unknown', 'electing', 'primary', 'standby'] as const;
/** Drop reasons the transport adds on top of the codec's. Pre-set to 0 so every series exists. */
const TRANSPORT_DROP_REASONS = ['duplicate-node-id'] as const;
/**
 * Bounds of the lag sampler's default period. Each tick wakes an otherwise idle process, and at
 * idle a wake-up costs about as much as handling a heartbeat (cold caches), so the probe ticks
 * no faster than the heartbeats it protects: lag matters in units of that interval. At most
 * 1 s, so a stall still shows within a second at long intervals; at least 100 ms.
 */
const DEFAULT_SAMPLE_MIN_MS = 100;
const DEFAULT_SAMPLE_MAX_MS = 1_000;
/** Bound on remembered primary senders (inter-arrival is per sender): forged ids cannot grow memory. */
const MAX_TRACKED_SENDERS = 64;

export interface NodeMetricsOptions {
  /** Registry to register into; a fresh one by default (never prom-client's global registry). */
  registry?: Registry;
  /**
   * Period of the event-loop lag sampler (a timer-drift probe). Default: the heartbeat interval,
   * clamped to 100..1000 ms (see DEFAULT_SAMPLE_MIN_MS).
   */
  eventLoopSampleMs?: number;
  /** Histogram buckets (seconds) for primary heartbeat inter-arrival times. */
  interArrivalBuckets?: number[];
}

export interface NodeMetrics {
  registry: Registry;
  /** Counts one notify hook failure or timeout in `hastate_notify_hook_failures_total`. */
  notifyHookFailed(hook?: string): void;
  /** The exposition: what GET /metrics answers (wire it as the status server's `getMetrics`). */
  render(): Promise<{ contentType: string; body: string }>;
  /** Detaches from the node and stops the sampler. Idempotent. */
  stop(): void;
}

const byNode = new WeakMap<HaNode, NodeMetrics>();

/**
 * Counts a notify hook failure for `node`, for code that has the node but not the metrics
 * object. A no-op when no metrics were created for that node.
 */
export function countNotifyHookFailure(node: HaNode, hook?: string): void {
  byNode.get(node)?.notifyHookFailed(hook);
}

export function createNodeMetrics(node: HaNode, opts: NodeMetricsOptions = {}): NodeMetrics {
  const registry = opts.registry ?? new Registry();
  const registers = [registry];
  const stats = node.transportStats;

  new Gauge({
    name: 'hastate_info',
    help: 'Constant 1, labelled with the node id and the hastate version.',
    labelNames: ['node_id', 'version'],
    registers,
    collect() {
      this.set({ node_id: node.config.ha.nodeId, version: VERSION }, 1);
    },
  });
  new Gauge({
    name: 'hastate_role',
    help: 'Current role of this node: 1 for the current role, 0 for the others.',
    labelNames: ['role'],
    registers,
    collect() {
      const role = node.status().role;
      for (const r of ROLES) this.set({ role: r }, r === role ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hastate_epoch',
    help: 'Current election term (epoch) known to this node.',
    registers,
    collect() {
      this.set(node.status().epoch);
    },
  });
  const roleChanges = new Counter({
    name: 'hastate_role_changes_total',
    help: 'Role changes (switches) of this node, by from and to role.',
    labelNames: ['from', 'to'],
    registers,
  });
  const unsubscribe = node.onRoleChange((c) => {
    if (c.from !== c.to) roleChanges.inc({ from: c.from, to: c.to });
  });
  new Gauge({
    name: 'hastate_epoch_durable',
    help: 'Highest epoch made durable in the state file (ha.state_dir); the node never starts below it.',
    registers,
    collect() {
      this.set(node.epochStoreStats.durableEpoch);
    },
  });
  new Counter({
    name: 'hastate_epoch_store_failures_total',
    help: 'Failed writes of the durable epoch; each puts the node in role unknown (a fault).',
    registers,
    collect() {
      this.reset();
      this.inc(node.epochStoreStats.failures);
    },
  });
  new Gauge({
    name: 'hastate_transport_up',
    help: '1 while the multicast transport is joined and usable, else 0.',
    registers,
    collect() {
      this.set(stats.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hastate_duplicate_node_id',
    help: '1 while another live process uses this node id (the node holds role unknown), else 0.',
    registers,
    collect() {
      const s = node.status();
      // Both election machines hold a duplicate node id in the state unknown.conflict.
      this.set(s.statePaths.some((p) => p.startsWith('unknown.conflict')) ? 1 : 0);
    },
  });
  new Counter({
    name: 'hastate_datagrams_sent_total',
    help: 'Datagrams sent: heartbeats (as primary), announcements and role declarations.',
    registers,
    collect() {
      this.reset();
      this.inc(stats.sent);
    },
  });
  new Counter({
    name: 'hastate_datagram_send_errors_total',
    help: 'Datagrams the socket failed to send.',
    registers,
    collect() {
      this.reset();
      this.inc(stats.sendErrors);
    },
  });
  new Counter({
    name: 'hastate_datagrams_received_total',
    help: 'Datagrams received on the heartbeat port, valid or not, including our own looped back.',
    registers,
    collect() {
      this.reset();
      this.inc(stats.received);
    },
  });
  let primaryHeartbeats = 0;
  new Counter({
    name: 'hastate_primary_heartbeats_received_total',
    help: 'Valid heartbeats received from other nodes claiming primary.',
    registers,
    collect() {
      this.reset();
      this.inc(primaryHeartbeats);
    },
  });
  new Counter({
    name: 'hastate_datagrams_dropped_total',
    help: 'Datagrams dropped, by reason (malformed, own id used by another node, ...).',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const reason of [...DROP_REASONS, ...TRANSPORT_DROP_REASONS, ...AUTH_DROP_REASONS]) this.inc({ reason }, 0);
      for (const [reason, n] of Object.entries(stats.dropped)) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: 'hastate_peers',
    help: 'Other nodes this node counts as alive: the peers status and the live view list (multicast: heard within the heartbeat timeout; redis/etcd: registered).',
    registers,
    collect() {
      this.set(node.peers().length);
    },
  });
  new Gauge({
    name: 'hastate_last_primary_heartbeat_age_seconds',
    help: 'Seconds since the last heartbeat from another node claiming primary; -1 when none was heard or this node is primary.',
    registers,
    collect() {
      const age = node.status().lastPrimaryHeartbeatAgeMs;
      this.set(age === null ? -1 : age / 1000);
    },
  });
  const interArrival = new Histogram({
    name: 'hastate_primary_heartbeat_interarrival_seconds',
    help: 'Time between consecutive heartbeats from the same primary, as received (monotonic clock).',
    buckets: opts.interArrivalBuckets ?? [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 9, 15, 30],
    registers,
  });
  const lastFrom = new Map<string, number>();
  const onMessage = (m: HaMessage, nowMs: number) => {
    if (m.role !== 'primary' || m.type !== 'heartbeat') return;
    primaryHeartbeats++;
    const last = lastFrom.get(m.nodeId);
    if (last !== undefined) interArrival.observe(Math.max(0, nowMs - last) / 1000);
    else if (lastFrom.size >= MAX_TRACKED_SENDERS) lastFrom.clear();
    lastFrom.set(m.nodeId, nowMs);
  };
  stats.messageListeners.add(onMessage);

  // Event-loop lag: a timer-drift probe. Each tick observes how late it fired; a loop stalled
  // for 5 s shows as one 5 s observation, which is what delays heartbeats. Memory is bounded
  // by the buckets.
  const lag = new Histogram({
    name: 'hastate_event_loop_lag_seconds',
    help: 'How late a periodic timer fired: event-loop lag, which delays sending and handling heartbeats.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const defaultSampleMs = Math.min(DEFAULT_SAMPLE_MAX_MS, Math.max(DEFAULT_SAMPLE_MIN_MS, node.config.ha.heartbeat.intervalMs));
  const sampleMs = Math.max(10, opts.eventLoopSampleMs ?? defaultSampleMs);
  let expected = performance.now() + sampleMs;
  const sampler = setInterval(() => {
    const now = performance.now();
    lag.observe(Math.max(0, now - expected) / 1000);
    expected = now + sampleMs;
  }, sampleMs);
  sampler.unref();

  new Counter({
    name: 'hastate_service_restarts_total',
    help: 'Restarts of each supervised service after failures.',
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const s of node.status().services) this.inc({ service: s.name }, s.restarts);
    },
  });
  const hookFailures = new Counter({
    name: 'hastate_notify_hook_failures_total',
    help: 'Notify hooks (commands run on role changes) that failed or timed out.',
    registers,
  });

  let stopped = false;
  const metrics: NodeMetrics = {
    registry,
    notifyHookFailed: () => hookFailures.inc(),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    stop: () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      stats.messageListeners.delete(onMessage);
      clearInterval(sampler);
      if (byNode.get(node) === metrics) byNode.delete(node);
    },
  };
  byNode.set(node, metrics);
  return metrics;
}
