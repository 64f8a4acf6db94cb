/**
 * The Redis coordinator's pure core (see lease-core.ts): which script to run with which keys
 * and arguments for each lease-machine command, and what each script's reply, each pub/sub
 * message and each connection change means for the lease machine. redis.ts runs it on ioredis;
 * the lease simulator runs it against an in-memory model of the scripts.
 */
import type { CoordinatorCommand } from '../../machines/lease.machine.ts';
import type { WorkerReport } from './coordinator.ts';
import type { TransportStats } from '../transport/stats.ts';
import { LeaseCore, type CoreHost, type Outcome } from './lease-core.ts';
import type { LeaseValidity } from './lease-keeping.ts';
import { leaseValue, parseLeaseValue, type RedisScript } from './redis-scripts.ts';

/** One script run: `EVAL <script> <keys.length> ...keys ...args`. */
export interface RedisCall {
  script: RedisScript;
  keys: string[];
  args: (string | number)[];
}

export interface RedisCoreOptions {
  keyPrefix: string;
  nodeId: string;
  /** This process, as opposed to another one started with the same node id. */
  incarnation: string;
  ttlMs: number;
  /** Where the node connects, for messages (the URL). */
  where: string;
}

/** Registry entries older than this many lease TTLs are removed. */
const WORKER_EXPIRY_TTLS = 3;

export const redisKeys = (keyPrefix: string, nodeId: string) => ({
  leader: `${keyPrefix}:leader`,
  token: `${keyPrefix}:token`,
  info: `${keyPrefix}:leader-info`,
  workers: `${keyPrefix}:workers`,
  events: `${keyPrefix}:events`,
  member: `${keyPrefix}:member:${nodeId}`,
});

/** A reply of the shape our scripts return (a list), or null for anything else. */
const list = (value: unknown): unknown[] | null => (Array.isArray(value) ? value : null);

export class RedisCore extends LeaseCore<RedisCall> {
  readonly keys: ReturnType<typeof redisKeys>;
  /** Whether the member key holds our incarnation; until then we neither campaign nor report up. */
  #registered = false;

  constructor(
    readonly opts: RedisCoreOptions,
    host: CoreHost<RedisCall>,
    stats: TransportStats,
    validity: LeaseValidity,
  ) {
    super(host, stats, validity);
    this.keys = redisKeys(opts.keyPrefix, opts.nodeId);
  }

  /** The command connection is ready (first connect or a reconnect). */
  connected(nowMs: number): void {
    this.at(nowMs);
    this.stats.up = true;
    this.stats.lastError = null;
    this.host.log('info', { url: this.opts.where }, 'redis connected');
    this.#register();
  }

  /** The command connection closed; the client reconnects on its own. */
  disconnected(nowMs: number): void {
    this.at(nowMs);
    this.#registered = false;
    if (this.closed || !this.stats.up) return;
    this.stats.up = false;
    this.host.log('warn', { url: this.opts.where }, 'redis connection lost; reconnecting');
    this.emit({ type: 'COORDINATOR.DOWN', reason: 'connection closed' });
  }

  /** An error the client reports outside any one request. */
  clientError(message: string): void {
    this.stats.lastError = message;
    this.host.failed(`coordinator request failed: redis: ${message}`);
  }

  /** A message on the events channel: `acquired <value>` or `released <value>`. */
  message(text: string, nowMs: number): void {
    this.at(nowMs);
    this.stats.received++;
    const space = text.indexOf(' ');
    const kind = text.slice(0, space);
    const lease = parseLeaseValue(text.slice(space + 1));
    if (lease === null || (kind !== 'acquired' && kind !== 'released')) {
      this.host.drop('bad-event', `unexpected message on ${this.keys.events}`, 'warn');
      return;
    }
    this.emit({ type: 'LEADER.OBSERVED', leaderId: kind === 'acquired' ? lease.nodeId : null, token: lease.token });
  }

  command(command: CoordinatorCommand, nowMs: number): void {
    this.at(nowMs);
    const { keys, opts } = this;
    if (command.type === 'CAMPAIGN') {
      // Refused while another process holds our id: the machine retries every period.
      if (!this.#registered) return;
      const call = { script: 'ACQUIRE' as const, keys: [keys.leader, keys.token, keys.info, keys.events], args: [opts.nodeId, opts.ttlMs, command.minToken] };
      this.#request('campaign', call, (reply, rttMs) => {
        const lease = parseLeaseValue(reply[1]);
        if (lease === null) {
          this.host.drop('bad-lease', `${keys.leader} holds a value hastate did not write`, 'error');
          return;
        }
        if (reply[0] === 1 && lease.nodeId === opts.nodeId) this.emit({ type: 'LEASE.ACQUIRED', token: lease.token, rttMs });
        else this.emit({ type: 'LEADER.OBSERVED', leaderId: lease.nodeId, token: lease.token });
      });
    } else if (command.type === 'RENEW') {
      const call = { script: 'RENEW' as const, keys: [keys.leader, keys.info], args: [leaseValue(command.token, opts.nodeId), opts.ttlMs] };
      this.#request('renew', call, (reply, rttMs) => {
        if (reply[0] === 1) {
          this.emit({ type: 'LEASE.RENEWED', token: command.token, rttMs });
          return;
        }
        const other = parseLeaseValue(reply[1]);
        this.emit({ type: 'LEASE.LOST', token: command.token, reason: other === null ? 'the lease expired' : `held by ${other.nodeId} (token ${other.token})` });
        if (other !== null) this.emit({ type: 'LEADER.OBSERVED', leaderId: other.nodeId, token: other.token });
      });
    } else {
      this.validity.end();
      // Replies 1 (released) or 0 (not ours): either way there is nothing to report.
      this.#request('release', { script: 'RELEASE', keys: [keys.leader, keys.events], args: [leaseValue(command.token, opts.nodeId)] }, null);
    }
  }

  /** Every period, whatever the role: renew our registration and refresh the worker registry. */
  heartbeat(report: WorkerReport, nowMs: number): void {
    this.at(nowMs);
    this.#register();
    const call = { script: 'HEARTBEAT' as const, keys: [this.keys.workers], args: [this.opts.nodeId, report.role, report.epoch, WORKER_EXPIRY_TTLS * this.opts.ttlMs] };
    this.#request('registry heartbeat', call, ([serverNowMs, ...pairs]) => {
      this.stats.peers.clear();
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const id = String(pairs[i]);
        if (id === this.opts.nodeId) continue;
        const [peerRole, peerEpoch, seenAtMs] = String(pairs[i + 1]).split(' ');
        const role = peerRole === 'primary' || peerRole === 'standby' ? peerRole : 'unknown';
        this.stats.peers.set(id, { nodeId: id, role, priority: 0, epoch: Number(peerEpoch) || 0, address: 'redis', lastSeenMs: this.nowMs - (Number(serverNowMs) - Number(seenAtMs)) });
      }
    });
  }

  /**
   * The actor stops. Returns the call that gives our node id back (so a restart with this id
   * need not wait for the member key to expire), or null when we hold no registration.
   */
  leave(nowMs: number): RedisCall | null {
    const unregister = this.#registered && this.stats.up ? { script: 'UNREGISTER' as const, keys: [this.keys.member], args: [this.opts.incarnation] } : null;
    this.close(nowMs);
    this.stats.up = false;
    return unregister;
  }

  #register(): void {
    this.#request('registration', { script: 'REGISTER', keys: [this.keys.member], args: [this.opts.incarnation, this.opts.ttlMs] }, ([ok, other, pttlMs]) => {
      if (ok === 1) {
        if (this.#registered) return;
        this.#registered = true;
        if (this.conflictLoggedMs !== null) this.host.log('info', { nodeId: this.opts.nodeId }, 'node id registered: the other process with this id is gone');
        this.conflictLoggedMs = null;
        this.emit({ type: 'COORDINATOR.UP' });
        return;
      }
      this.#registered = false;
      const from = `redis ${this.opts.where} (incarnation ${String(other)}, expiring in ${String(pttlMs)} ms unless renewed)`;
      if (this.conflictLogDue()) {
        this.host.log('error', { nodeId: this.opts.nodeId, key: this.keys.member, other }, `another live process is registered with our node id ${this.opts.nodeId} at ${from}; refusing to campaign`);
      }
      this.emit({ type: 'IDENTITY.CONFLICT', from });
    });
  }

  /** A request while connected; a failure (error, timeout) reports the coordinator down. */
  #request(what: string, call: RedisCall, onReply: ((reply: unknown[], rttMs: number) => void) | null): void {
    if (this.closed) return;
    if (!this.stats.up) {
      // ioredis fails at once while disconnected (no offline queue): not sent at all.
      this.stats.sendErrors++;
      return;
    }
    this.call(call, (outcome: Outcome, rttMs) => {
      if (outcome.ok && onReply === null) return;
      const reply = outcome.ok ? list(outcome.value) : null;
      if (reply !== null) {
        onReply?.(reply, rttMs);
        return;
      }
      const error = outcome.ok ? `unexpected reply ${JSON.stringify(outcome.value)?.slice(0, 100)}` : outcome.error;
      this.stats.lastError = `${what}: ${error}`;
      this.host.failed(`coordinator request failed: redis ${what}: ${error}`);
      // A server that stops answering (paused, overloaded) need not close the connection: a
      // failed request counts as down too. The next successful registration (every period)
      // reports UP again; if none does within the renew deadline, the machine declares the
      // coordinator lost.
      if (!this.#registered) return;
      this.#registered = false;
      this.emit({ type: 'COORDINATOR.DOWN', reason: `${what} failed: ${error}` });
    });
  }
}
