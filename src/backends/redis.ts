/**
 * The Redis coordinator: the lease machine's `coordinator` actor on a Redis server.
 *
 * One key holds the lease (`SET key value NX PX ttl`, inside a script that also takes the
 * fencing token from `INCR`); the holder renews it with a compare-and-set script and releases it
 * the same way. Grants and releases are published on a channel, so the others campaign at once
 * after a release instead of waiting for their next period. A worker registry (one hash, one
 * field per node, server-clock timestamps, expired fields removed) shows every live node.
 *
 * Every request is bounded (`requestTimeoutMs`) and fails fast while disconnected; the client
 * reconnects with capped exponential backoff. The connection closing, or any request failing,
 * is reported as COORDINATOR.DOWN; the next successful registration as COORDINATOR.UP. The
 * machine, not this file, decides what that means: its renew deadline ends a primary's term,
 * and a coordinator down for that long is a fault.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { fromCallback } from 'xstate';
import type { Logger } from 'pino';
import type { CoordinatorCommand, LeaseEvent, LeaseTiming } from '../../machines/lease.machine.ts';
import { TransportStats } from '../transport/stats.ts';
import { monotonicMs } from '../runtime/clock.ts';
import { ACQUIRE, HEARTBEAT, leaseValue, parseLeaseValue, REGISTER, RELEASE, RENEW, UNREGISTER } from './redis-scripts.ts';
import type { Coordinator, WorkerReport } from './coordinator.ts';
import { InFlight, LeaseValidity, requestTimeoutMs as requestTimeoutOf } from './lease-keeping.ts';
import { restartDelayMs as backoffMs } from '../../machines/backoff.ts';

export interface RedisCoordinatorOptions {
  url: string;
  /** Every key and the channel start with this; one prefix per cluster. */
  keyPrefix: string;
  nodeId: string;
  timing: LeaseTiming;
  log: Logger;
  /** The node's current role and epoch, for the worker registry. */
  report: () => WorkerReport;
  /** Reconnect backoff: first delay and cap. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

/** Registry entries older than this many lease TTLs are removed. */
const WORKER_EXPIRY_TTLS = 3;
/** The duplicate-id error is logged at most once per this window while the conflict lasts. */
const CONFLICT_LOG_WINDOW_MS = 10_000;

export function createRedisCoordinator(opts: RedisCoordinatorOptions): Coordinator {
  const stats = new TransportStats();
  const log = opts.log.child({ component: 'redis' });
  const keys = {
    leader: `${opts.keyPrefix}:leader`,
    token: `${opts.keyPrefix}:token`,
    info: `${opts.keyPrefix}:leader-info`,
    workers: `${opts.keyPrefix}:workers`,
    events: `${opts.keyPrefix}:events`,
    member: `${opts.keyPrefix}:member:${opts.nodeId}`,
  };
  /** This process, as opposed to another one started with the same node id. */
  const incarnation = randomUUID();
  const { retryPeriodMs, ttlMs } = opts.timing;
  const requestTimeoutMs = requestTimeoutOf(opts.timing);
  const reconnectBaseMs = opts.reconnectBaseMs ?? 100;
  const reconnectMaxMs = opts.reconnectMaxMs ?? 2_000;
  const inFlight = new InFlight();
  const validity = new LeaseValidity(opts.timing.renewDeadlineMs);

  const coordinator = fromCallback<CoordinatorCommand, { nodeId: string }>(({ sendBack, receive }) => {
    const send = (e: LeaseEvent) => {
      validity.note(e, monotonicMs());
      sendBack(e);
    };
    const common = {
      retryStrategy: (times: number) => backoffMs(times, reconnectBaseMs, reconnectMaxMs),
      connectTimeout: Math.max(requestTimeoutMs, 500),
      lazyConnect: false,
    };
    const cmd = new Redis(opts.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: requestTimeoutMs });
    const sub = new Redis(opts.url, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null });
    let closed = false;
    /** Whether the member key holds our incarnation; until then we neither campaign nor report up. */
    let registered = false;
    let conflictLoggedMs: number | null = null;

    cmd.on('ready', () => {
      stats.up = true;
      stats.lastError = null;
      log.info({ url: opts.url }, 'redis connected');
      register();
    });
    cmd.on('close', () => {
      registered = false;
      if (closed || !stats.up) return;
      stats.up = false;
      log.warn({ url: opts.url }, 'redis connection lost; reconnecting');
      send({ type: 'COORDINATOR.DOWN', reason: 'connection closed' });
    });
    const onError = (error: Error) => {
      stats.lastError = error.message;
      stats.sendFailed(`coordinator request failed: redis: ${error.message}`, log);
    };
    cmd.on('error', onError);
    sub.on('error', onError);

    void sub.subscribe(keys.events).catch(onError);
    sub.on('message', (_channel: string, message: string) => {
      stats.received++;
      const space = message.indexOf(' ');
      const kind = message.slice(0, space);
      const lease = parseLeaseValue(message.slice(space + 1));
      if (lease === null || (kind !== 'acquired' && kind !== 'released')) {
        stats.drop('bad-event', `unexpected message on ${keys.events}`, log);
        return;
      }
      send({ type: 'LEADER.OBSERVED', leaderId: kind === 'acquired' ? lease.nodeId : null, token: lease.token });
    });

    const request = <T>(what: string, run: () => Promise<T>, onResult: (result: T, rttMs: number) => void) => {
      if (closed) return;
      if (!stats.up) {
        stats.sendErrors++;
        return;
      }
      const sentAt = monotonicMs();
      stats.sent++;
      void inFlight.add(
        run().then(
          (result) => {
            if (closed) return;
            stats.received++;
            onResult(result, monotonicMs() - sentAt);
          },
          (error: Error) => {
            stats.lastError = `${what}: ${error.message}`;
            stats.sendFailed(`coordinator request failed: redis ${what}: ${error.message}`, log);
            // A server that stops answering (paused, overloaded) need not close the connection:
            // a failed request counts as down too. The next successful registration (every
            // period) reports UP again; if none does within the renew deadline, the machine
            // declares the coordinator lost.
            if (closed || !registered) return;
            registered = false;
            send({ type: 'COORDINATOR.DOWN', reason: `${what} failed: ${error.message}` });
          },
        ),
      );
    };

    const register = () =>
      request('registration', () => cmd.eval(REGISTER, 1, keys.member, incarnation, ttlMs) as Promise<[number, string, number]>, ([ok, other, pttlMs]) => {
        if (ok === 1) {
          if (registered) return;
          registered = true;
          if (conflictLoggedMs !== null) log.info({ nodeId: opts.nodeId }, 'node id registered: the other process with this id is gone');
          conflictLoggedMs = null;
          send({ type: 'COORDINATOR.UP' });
          return;
        }
        registered = false;
        const from = `redis ${opts.url} (incarnation ${other}, expiring in ${pttlMs} ms unless renewed)`;
        const now = monotonicMs();
        if (conflictLoggedMs === null || now - conflictLoggedMs >= CONFLICT_LOG_WINDOW_MS) {
          conflictLoggedMs = now;
          log.error({ nodeId: opts.nodeId, key: keys.member, other }, `another live process is registered with our node id ${opts.nodeId} at ${from}; refusing to campaign`);
        }
        send({ type: 'IDENTITY.CONFLICT', from });
      });

    receive((command) => {
      // Refused while another process holds our id: the machine retries every period.
      if (command.type === 'CAMPAIGN' && !registered) return;
      if (command.type === 'CAMPAIGN') {
        request('campaign', () => cmd.eval(ACQUIRE, 4, keys.leader, keys.token, keys.info, keys.events, opts.nodeId, ttlMs, command.minToken) as Promise<[number, string]>, ([won, value], rttMs) => {
          const lease = parseLeaseValue(value);
          if (lease === null) {
            stats.drop('bad-lease', `${keys.leader} holds a value hastate did not write`, log, 'error');
            return;
          }
          if (won === 1 && lease.nodeId === opts.nodeId) send({ type: 'LEASE.ACQUIRED', token: lease.token, rttMs });
          else send({ type: 'LEADER.OBSERVED', leaderId: lease.nodeId, token: lease.token });
        });
      } else if (command.type === 'RENEW') {
        const mine = leaseValue(command.token, opts.nodeId);
        request('renew', () => cmd.eval(RENEW, 2, keys.leader, keys.info, mine, ttlMs) as Promise<[number, string | null]>, ([ok, holder], rttMs) => {
          if (ok === 1) {
            send({ type: 'LEASE.RENEWED', token: command.token, rttMs });
            return;
          }
          const other = parseLeaseValue(holder);
          send({ type: 'LEASE.LOST', token: command.token, reason: other === null ? 'the lease expired' : `held by ${other.nodeId} (token ${other.token})` });
          if (other !== null) send({ type: 'LEADER.OBSERVED', leaderId: other.nodeId, token: other.token });
        });
      } else {
        validity.end();
        request('release', () => cmd.eval(RELEASE, 2, keys.leader, keys.events, leaseValue(command.token, opts.nodeId)) as Promise<number>, () => {});
      }
    });

    // The worker registry: every node, every period, whatever its role.
    const heartbeat = setInterval(() => {
      register();
      const { role, epoch } = opts.report();
      request('registry heartbeat', () => cmd.eval(HEARTBEAT, 1, keys.workers, opts.nodeId, role, epoch, WORKER_EXPIRY_TTLS * ttlMs) as Promise<(string | number)[]>, (reply) => {
        const [serverNowMs, ...pairs] = reply;
        const now = monotonicMs();
        stats.peers.clear();
        for (let i = 0; i + 1 < pairs.length; i += 2) {
          const id = String(pairs[i]);
          if (id === opts.nodeId) continue;
          const [peerRole, peerEpoch, seenAtMs] = String(pairs[i + 1]).split(' ');
          const r = peerRole === 'primary' || peerRole === 'standby' ? peerRole : 'unknown';
          stats.peers.set(id, { nodeId: id, role: r, priority: 0, epoch: Number(peerEpoch) || 0, address: 'redis', lastSeenMs: now - (Number(serverNowMs) - Number(seenAtMs)) });
        }
      });
    }, retryPeriodMs);

    return () => {
      closed = true;
      stats.up = false;
      clearInterval(heartbeat);
      // A restart with this id need not wait for our member key to expire.
      if (registered && stats.up) void inFlight.add(cmd.eval(UNREGISTER, 1, keys.member, incarnation).then(() => {}, () => {}));
      // Let a release sent during shutdown reach the server before the connection goes.
      void inFlight.settled().then(() => {
        cmd.disconnect();
        sub.disconnect();
      });
    };
  });

  return {
    coordinator,
    stats,
    flush: (timeoutMs) => inFlight.flush(timeoutMs),
    leaseValidUntilMs: () => validity.untilMs(),
    describe: () => ({ backend: 'redis', url: opts.url, keyPrefix: opts.keyPrefix }),
  };
}
