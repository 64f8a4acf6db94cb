import type { Role } from '../../machines/service.machine.ts';
import type { HastateConfig } from '../config/index.ts';

/** A peer as this node last heard it. */
export interface PeerStatus {
  nodeId: string;
  role: 'unknown' | 'primary' | 'standby';
  priority: number;
  epoch: number;
  /** Source address of its last datagram. */
  address: string;
  lastSeenAgeMs: number;
}

export interface ServiceStatus {
  name: string;
  state: 'running' | 'backing-off' | 'stopped';
  restarts: number;
  failures: number;
  lastError: string | null;
  [extra: string]: unknown;
}

/** The body of GET /status. Field names are a stable contract for scripts. */
export interface NodeStatus {
  nodeId: string;
  role: Role;
  /** Active state paths of the role machine (e.g. `standby.watch.watching`), for the live view. */
  statePaths: string[];
  epoch: number;
  priority: number;
  mode: 'auto' | 'primary' | 'standby';
  preempt: boolean;
  primaryId: string | null;
  /** Age of the last heartbeat from another node claiming primary; null when none was heard. */
  lastPrimaryHeartbeatAgeMs: number | null;
  roleChanges: number;
  /** Why the last role change happened. */
  reason: string;
  droppedPackets: { total: number; byReason: Record<string, number> };
  packets: { sent: number; received: number; sendErrors: number };
  /** ha.backend in effect (ha.enabled false counts as single). */
  backend: HastateConfig['ha']['backend'];
  /** For redis/etcd, group/port/interface are empty and `coordinator` names the server. */
  transport: { up: boolean; lastError: string | null; group: string; port: number; interface: string; coordinator?: Record<string, unknown> };
  timing: { electionWindowMs: number; heartbeatIntervalMs: number; heartbeatTimeoutMs: number; lease?: { ttlMs: number; renewDeadlineMs: number; retryPeriodMs: number } };
  peers: PeerStatus[];
  services: ServiceStatus[];
  uptimeMs: number;
  pid: number;
  version: string;
}
