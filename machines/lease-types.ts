/** The types of the lease machine (lease.machine.ts): its timing, input, events, commands and context. */
import type { Role } from './service.machine.ts';

export interface LeaseTiming {
  /** How long the coordinator keeps a lease that is not renewed. */
  ttlMs: number;
  /** A primary that has not renewed within this long steps down; less than ttlMs. */
  renewDeadlineMs: number;
  /** Time between renewals by the primary and between campaigns by the others. */
  retryPeriodMs: number;
}

export interface LeaseInput {
  nodeId: string;
  timing: LeaseTiming;
  /** `standby` never campaigns (a node that must not lead); `primary` is refused by config. */
  mode?: 'auto' | 'standby';
  /** The highest epoch an earlier run made durable: campaigns ask for a token above it, and a lower grant is refused. */
  epoch?: number;
}

export type LeaseEvent =
  | { type: 'COORDINATOR.UP' }
  | { type: 'COORDINATOR.DOWN'; reason: string }
  /** Raised by the machine itself, `renewDeadlineMs` after a COORDINATOR.DOWN that no COORDINATOR.UP followed. */
  | { type: 'COORDINATOR.LOST' }
  /** The coordinator granted us the lease; `rttMs` is the request's round trip. */
  | { type: 'LEASE.ACQUIRED'; token: number; rttMs: number }
  | { type: 'LEASE.RENEWED'; token: number; rttMs: number }
  /** The coordinator says we no longer hold the lease (it expired or another node holds it). */
  | { type: 'LEASE.LOST'; token: number; reason: string }
  /** Who holds the lease now; null = nobody (released or expired). */
  | { type: 'LEADER.OBSERVED'; leaderId: string | null; token: number }
  | { type: 'RESIGN' }
  /** The `persistEpoch` actor made this token durable. */
  | { type: 'EPOCH.PERSISTED'; epoch: number }
  /** This node must not take part (its epoch cannot be made durable): role unknown. */
  | { type: 'FAULT'; reason: string }
  /** Another live process is registered with our node id: we must not campaign. */
  | { type: 'IDENTITY.CONFLICT'; from: string };

/** Sent to the coordinator actor. */
/**
 * `minToken` is the highest epoch this node has seen: a coordinator that lost its token counter
 * (a restart without persistence) still issues a token above every token the node knows of.
 */
export type CoordinatorCommand = { type: 'CAMPAIGN'; minToken: number } | { type: 'RENEW'; token: number } | { type: 'RELEASE'; token: number };

export interface LeaseContext {
  nodeId: string;
  mode: 'auto' | 'standby';
  timing: LeaseTiming;
  role: Role;
  epoch: number;
  primaryId: string | null;
  coordinatorUp: boolean;
  /** Why the coordinator was last reported down; the fault reason names it if it stays down. */
  coordinatorDownReason: string;
  /** Round trip of the last successful grant or renewal: the deadline counts from its sending. */
  lastRttMs: number;
  /** Set by RESIGN: do not campaign again for one lease TTL, so another node takes the role. */
  resigned: boolean;
  roleChanges: number;
  reason: string;
  /** A granted token waiting to be made durable before this node acts on it (state `claiming`). */
  claimEpoch: number;
}
