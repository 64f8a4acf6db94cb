import type { Logger } from 'pino';
import type { HaMessage } from './codec.ts';
import { monotonicMs } from '../runtime/clock.ts';

export interface PeerRecord {
  nodeId: string;
  role: HaMessage['role'];
  priority: number;
  epoch: number;
  address: string;
  lastSeenMs: number;
}

/** Drops are logged at most once per reason per window, with the count since the last line. */
const DROP_LOG_WINDOW_MS = 10_000;
/** Bound the peer table: a flood of forged node ids must not grow memory without limit. */
const MAX_PEERS = 256;

/** Counters and the peer table the transport keeps for status and metrics. */
export class TransportStats {
  up = false;
  lastError: string | null = null;
  sent = 0;
  received = 0;
  sendErrors = 0;
  /** Our own datagrams returned by multicast loopback: expected, not counted as drops. */
  looped = 0;
  /** Datagrams from peers passed to the role machine; received = accepted + looped + droppedTotal. */
  accepted = 0;
  /** Of those, tagged ones whose HMAC verified, and tagged ones taken unchecked (ha.auth.mode off). */
  authVerified = 0;
  authUnverified = 0;
  droppedTotal = 0;
  readonly dropped: Record<string, number> = {};
  readonly peers = new Map<string, PeerRecord>();
  lastPrimaryHeartbeatMs: number | null = null;
  /** Observers of every valid datagram from a peer (metrics); they must not throw. */
  readonly messageListeners = new Set<(m: HaMessage, nowMs: number) => void>();
  #lastLogMs = new Map<string, number>();
  #suppressed = new Map<string, number>();

  drop(reason: string, detail: string, log: Logger | null, level: 'warn' | 'error' = 'warn'): void {
    this.droppedTotal++;
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    if (log !== null) this.#rateLimited(`drop:${reason}`, log, level, { reason }, `dropped datagram (${reason}): ${detail}`);
  }

  /** Counts a failed send or coordinator request; `message` says which (the caller knows its backend). */
  sendFailed(message: string, log: Logger | null): void {
    this.sendErrors++;
    if (log !== null) this.#rateLimited('send', log, 'warn', {}, message);
  }

  notePeer(m: HaMessage, address: string, nowMs: number): void {
    const known = this.peers.get(m.nodeId);
    if (known !== undefined) {
      // In place: a record per heartbeat was most of what an idle node allocated here.
      known.role = m.role;
      known.priority = m.priority;
      known.epoch = m.epoch;
      known.address = address;
      known.lastSeenMs = nowMs;
    } else {
      this.#addPeer(m, address, nowMs);
    }
    if (m.role === 'primary' && m.type !== 'announce') this.lastPrimaryHeartbeatMs = nowMs;
    for (const listener of this.messageListeners) listener(m, nowMs);
  }

  #addPeer(m: HaMessage, address: string, nowMs: number): void {
    if (this.peers.size >= MAX_PEERS) {
      let oldest: PeerRecord | undefined;
      for (const p of this.peers.values()) if (oldest === undefined || p.lastSeenMs < oldest.lastSeenMs) oldest = p;
      if (oldest) this.peers.delete(oldest.nodeId);
    }
    this.peers.set(m.nodeId, { nodeId: m.nodeId, role: m.role, priority: m.priority, epoch: m.epoch, address, lastSeenMs: nowMs });
  }

  #rateLimited(key: string, log: Logger, level: 'warn' | 'error', fields: object, msg: string): void {
    const now = monotonicMs();
    const last = this.#lastLogMs.get(key);
    if (last !== undefined && now - last < DROP_LOG_WINDOW_MS) {
      this.#suppressed.set(key, (this.#suppressed.get(key) ?? 0) + 1);
      return;
    }
    const suppressed = this.#suppressed.get(key) ?? 0;
    this.#lastLogMs.set(key, now);
    this.#suppressed.set(key, 0);
    log[level]({ ...fields, suppressedSinceLastLog: suppressed }, msg);
  }
}
