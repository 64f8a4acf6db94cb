/**
 * The one interface between a node (src/runtime/node.ts) and how it is elected. Multicast,
 * single, Redis and etcd each implement it; `createBackend` (index.ts) is the only place that
 * looks at `ha.backend`. The node never asks which backend it runs: it starts the election the
 * backend builds, forwards its role transitions to the services, and reads status, counters
 * and peers through this interface.
 *
 * What a backend promises: the election it starts is one of the pure election machines
 * (machines/role.machine.ts, machines/lease.machine.ts) with only I/O supplied, so the
 * machines' guarantees hold whatever the backend; `actingAllowed` adds the backend's own
 * limit on acting as primary (a lease valid on this node's clock), never removes one.
 */
import type { CallbackActorLogic, EventObject, InspectionEvent } from 'xstate';
import type { Election } from './election.ts';
import type { TransportStats } from '../transport/stats.ts';
import type { NodeStatus, PeerStatus } from '../runtime/status.ts';
import type { HastateConfig } from '../config/index.ts';
import type { RoleTiming } from '../../machines/role-types.ts';

/** The machines' `persistEpoch` actor logic. */
export type PersistEpochLogic = CallbackActorLogic<EventObject, { epoch: number }>;

/** The role machine's timing from `ha.*`, which `status().timing` also reports for every backend. */
export function heartbeatTiming(ha: HastateConfig['ha']): RoleTiming {
  return { electionWindowMs: ha.electionWindowMs, heartbeatIntervalMs: ha.heartbeat.intervalMs, heartbeatTimeoutMs: ha.heartbeat.timeoutMs };
}

export type BackendName = NodeStatus['backend'];

/** What the node gives a backend to start its election with. */
export interface ElectionDeps {
  /** The machines' `persistEpoch` actor: makes an epoch durable, answers EPOCH.PERSISTED or FAULT. */
  persistEpoch: PersistEpochLogic;
  /** The highest epoch earlier runs made durable: the election starts there, never below. */
  epoch: number;
  inspect?: (event: InspectionEvent) => void;
}

export interface Backend {
  /** `ha.backend` in effect (ha.enabled false counts as single), for status and logs only. */
  readonly name: BackendName;
  /** Creates (does not start) the election machine with this backend's I/O actors. */
  createElection(deps: ElectionDeps): Election;
  /** Counters for status and metrics: up, last error, sent/received, drops. */
  readonly stats: TransportStats;
  /**
   * Whether a primary may act right now beyond what its role says: false once a lease has run
   * past its renew deadline on this node's clock. Always true without a lease.
   */
  actingAllowed(): boolean;
  /** Resolves when whatever carries our last words (a leaving declaration, a lease release) has gone out, or after timeoutMs. */
  flush(timeoutMs: number): Promise<void>;
  /** Fields for the start-up log line: where the node coordinates. */
  describe(): Record<string, unknown>;
  /** `status().transport`. */
  transportStatus(): NodeStatus['transport'];
  /** `status().timing`. */
  timingStatus(): NodeStatus['timing'];
  /** The peers the node knows of now; dead ones have aged out. `nowMs` is monotonic. */
  peers(nowMs: number): PeerStatus[];
}
