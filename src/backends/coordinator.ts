/**
 * What a coordination backend (Redis, etcd) gives the node: the lease machine's `coordinator`
 * actor, the counters status and metrics read, and a bounded flush for shutdown.
 */
import type { CallbackActorLogic } from 'xstate';
import type { CoordinatorCommand } from '../../machines/lease.machine.ts';
import type { Role } from '../../machines/service.machine.ts';
import type { TransportStats } from '../transport/stats.ts';

export interface WorkerReport {
  role: Role;
  epoch: number;
}

export interface Coordinator {
  /** Provided to the lease machine as its `coordinator` actor. */
  coordinator: CallbackActorLogic<CoordinatorCommand, { nodeId: string }>;
  /** up/lastError, requests sent and answered, failures, and the registry's peers. */
  stats: TransportStats;
  /** Resolves when requests in flight (a release at shutdown) have finished, or after timeoutMs. */
  flush(timeoutMs: number): Promise<void>;
  /**
   * Monotonic ms until which this node may act as primary: when the last successful grant or
   * renewal was sent, plus the renew deadline. 0 when it holds no lease.
   */
  leaseValidUntilMs(): number;
  /** For the start-up log line and status. */
  describe(): Record<string, unknown>;
}
