/**
 * The receive path from datagram to role event, kept apart from the socket so that tests and
 * the fuzzer drive exactly what the transport runs. Every datagram ends in exactly one of:
 * a drop counted by reason, a looped-back own datagram, or an accepted event.
 */
import type { Logger } from 'pino';
import type { RoleEvent } from '../../machines/role.machine.ts';
import { decodeMessage, MESSAGE_SIZE } from './codec.ts';
import { frameKind, type AuthVerifier } from './auth.ts';
import { messageToEvent } from './events.ts';
import type { TransportStats } from './stats.ts';

export interface ReceiveContext {
  nodeId: string;
  stats: TransportStats;
  verifier: AuthVerifier;
  log: Logger | null;
  /** Whether we sent a datagram with this 32-bit sequence recently (multicast loopback). */
  sentRecently: (sequence: number) => boolean;
  /** Wall clock for the freshness window: stamps are wall time on every node. */
  wallMs: () => number;
  /** Monotonic clock for the peer table. */
  monotonicMs: () => number;
  /** A datagram with our node id that we did not send: another live process uses our id. */
  onDuplicateId?: (from: string) => void;
}

/** The sender for a drop's log line; built only then, since an accepted datagram needs no string. */
const fromOf = (sender: { address: string; port: number }) => `${sender.address}:${sender.port}`;

export function receiveDatagram(ctx: ReceiveContext, data: Uint8Array, sender: { address: string; port: number }): RoleEvent | null {
  const { stats, log } = ctx;
  stats.received++;
  const frame = frameKind(data);
  if (!frame.ok) {
    stats.drop(frame.reason, `${frame.detail} from ${fromOf(sender)}`, log);
    return null;
  }
  const decoded = decodeMessage(frame.tagged ? data.subarray(0, MESSAGE_SIZE) : data);
  if (!decoded.ok) {
    stats.drop(decoded.reason, `${decoded.detail} from ${fromOf(sender)}`, log);
    return null;
  }
  const m = decoded.message;
  // Before the own-id check: a forged datagram carrying our id is a forgery, not a duplicate node.
  const auth = ctx.verifier.check(data, frame.tagged, m.nodeId, ctx.wallMs());
  if (!auth.ok) {
    stats.drop(auth.reason, `${auth.detail} (${fromOf(sender)})`, log);
    return null;
  }
  if (m.nodeId === ctx.nodeId) {
    if (ctx.sentRecently(m.sequence)) stats.looped++;
    else {
      stats.drop('duplicate-node-id', `another node at ${fromOf(sender)} uses our node_id ${m.nodeId}`, log, 'error');
      ctx.onDuplicateId?.(fromOf(sender));
    }
    return null;
  }
  stats.accepted++;
  if (auth.verified) stats.authVerified++;
  else if (frame.tagged) stats.authUnverified++;
  stats.notePeer(m, sender.address, ctx.monotonicMs());
  return messageToEvent(m);
}
