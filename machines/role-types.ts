/** The types of the multicast role machine (role.machine.ts): its input, events, context and messages. */
import type { Rankable } from './rank.ts';
import type { Role } from './service.machine.ts';
import type { WireRole } from './identity.ts';

export type RoleMode = 'auto' | 'primary' | 'standby';

/** What a datagram tells us about its sender. */
export interface PeerInfo extends Rankable {
  role: WireRole;
  epoch: number;
  /**
   * The datagram was a role declaration: sent as a node takes a role, by a standby every beat
   * while its term is above its primary's, and by a primary that yields, at the term it held.
   */
  declared?: boolean;
}

export interface PeerState extends PeerInfo {
  /** Heartbeat ticks of ours since we last heard this peer; it is forgotten past the timeout. */
  silentTicks: number;
}

export interface OutboundMessage {
  type: 'announce' | 'heartbeat' | 'declaration';
  role: WireRole;
  nodeId: string;
  priority: number;
  epoch: number;
}

export interface RoleTiming {
  electionWindowMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
}

export interface RoleInput {
  nodeId: string;
  priority: number;
  mode?: RoleMode;
  preempt?: boolean;
  timing: RoleTiming;
  /** The highest epoch an earlier run of this node made durable: the node starts there, never below. */
  epoch?: number;
}

export type RoleEvent =
  | { type: 'TRANSPORT.UP' }
  | { type: 'TRANSPORT.DOWN'; reason: string }
  | { type: 'PEER.ANNOUNCE'; peer: PeerInfo }
  /** A node that is itself electing answered an announcement (declaration with role unknown). */
  | { type: 'PEER.ELECTING'; peer: PeerInfo }
  | { type: 'PEER.PRIMARY'; peer: PeerInfo }
  | { type: 'PEER.STANDBY'; peer: PeerInfo }
  /** The primary announced a graceful hand-over (declaration, role standby, LEAVING_PRIORITY). */
  | { type: 'PEER.LEAVING'; peer: PeerInfo }
  /** Operator or shutdown: a primary hands over to the best standby at once. */
  | { type: 'RESIGN' }
  | { type: 'SILENCE.CONFIRMED' }
  /** The `persistEpoch` actor made this epoch (or a higher one) durable. */
  | { type: 'EPOCH.PERSISTED'; epoch: number }
  /** This node must not take part (e.g. its epoch cannot be made durable): role unknown, like a lost transport. */
  | { type: 'FAULT'; reason: string }
  /**
   * A datagram carrying our own node id that we did not send: another live process uses our
   * id. `from` is where it came from (address:port), for the operator.
   */
  | { type: 'IDENTITY.CONFLICT'; from: string };

/** Sent to the transport actor. */
export interface SendEvent {
  type: 'SEND';
  message: OutboundMessage;
}

export interface RoleContext {
  self: Rankable;
  mode: RoleMode;
  preempt: boolean;
  timing: RoleTiming;
  role: Role;
  epoch: number;
  maxSeenEpoch: number;
  primaryId: string | null;
  peers: Record<string, PeerState>;
  candidates: Record<string, PeerInfo>;
  /**
   * Nodes that announced they are leaving, with the epoch they left at. UDP may deliver a
   * heartbeat sent just before the leaving declaration after it; such a stale claim must not
   * make the new primary yield back. A claim with a higher epoch is a genuine new term.
   */
  departed: Record<string, number>;
  /** Rate limit: a primary answers a conflicting primary at most once per heartbeat tick. */
  reassertedThisTick: boolean;
  /** Rate limit: announcements a primary answered with a heartbeat since its last tick. */
  answersThisTick: number;
  roleChanges: number;
  reason: string;
  /** The epoch a takeover or re-assertion will use once it is durable, and the reason it will give. */
  claimEpoch: number;
  claimReason: string;
  /** The epoch we held as primary when we last yielded (0: never); see declareYieldedTerm. */
  yieldedEpoch: number;
}
