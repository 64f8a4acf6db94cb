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
 *
 * This file is the I/O shell: the ioredis clients, the heartbeat timer and the logging. What
 * each request is and what each reply means is the pure core's (redis-core.ts), which the
 * lease simulator runs too.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { fromCallback } from 'xstate';
import type { Logger } from 'pino';
import type { CoordinatorCommand, LeaseEvent, LeaseTiming } from '../../machines/lease.machine.ts';
import { TransportStats } from '../transport/stats.ts';
import { HastateError } from '../errors.ts';
import { monotonicMs } from '../runtime/clock.ts';
import { REDIS_SCRIPTS } from './redis-scripts.ts';
import { RedisCore, type RedisCall } from './redis-core.ts';
import type { Coordinator, WorkerReport } from './coordinator.ts';
import type { CoreHost } from './lease-core.ts';
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

export function createRedisCoordinator(opts: RedisCoordinatorOptions): Coordinator {
  const stats = new TransportStats();
  const log = opts.log.child({ component: 'redis' });
  const { retryPeriodMs, ttlMs } = opts.timing;
  const requestTimeoutMs = requestTimeoutOf(opts.timing);
  const reconnectBaseMs = opts.reconnectBaseMs ?? 100;
  const reconnectMaxMs = opts.reconnectMaxMs ?? 2_000;
  const inFlight = new InFlight();
  const validity = new LeaseValidity(opts.timing.renewDeadlineMs);

  // Loaded only by nodes on the Redis backend: ioredis costs about 10 MB and 200 ms of start-up
  // (docs/benchmarks.md, "Idle cost"), which multicast, etcd and single nodes need not pay.
  const ioredis = import('ioredis');

  const coordinator = fromCallback<CoordinatorCommand, { nodeId: string }>(({ sendBack, receive }) => {
    let clients: { cmd: Redis; sub: Redis } | null = null;
    let heartbeat: NodeJS.Timeout | null = null;
    let stopped = false;
    const run = (call: RedisCall): Promise<unknown> =>
      clients === null ? Promise.reject(new HastateError('HASTATE_TRANSPORT', 'the redis client is not loaded yet')) : clients.cmd.eval(REDIS_SCRIPTS[call.script], call.keys.length, ...call.keys, ...call.args);
    const host: CoreHost<RedisCall> = {
      emit: (e: LeaseEvent) => sendBack(e),
      // ioredis bounds each command (commandTimeout) and fails it at once while disconnected.
      send: (id, call) =>
        void inFlight.add(
          run(call).then(
            (value) => core.settle(id, { ok: true, value }, monotonicMs()),
            (error: Error) => core.settle(id, { ok: false, error: error.message }, monotonicMs()),
          ),
        ),
      log: (level, fields, msg) => log[level](fields, msg),
      drop: (reason, detail, level) => stats.drop(reason, detail, log, level),
      failed: (message) => stats.sendFailed(message, log),
    };
    const core = new RedisCore({ keyPrefix: opts.keyPrefix, nodeId: opts.nodeId, incarnation: randomUUID(), ttlMs, where: opts.url }, host, stats, validity);
    receive((command) => core.command(command, monotonicMs()));

    void ioredis.then(
      ({ Redis: Client }) => {
        if (stopped) return;
        const common = {
          retryStrategy: (times: number) => backoffMs(times, reconnectBaseMs, reconnectMaxMs),
          connectTimeout: Math.max(requestTimeoutMs, 500),
          lazyConnect: false,
        };
        const cmd = new Client(opts.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: requestTimeoutMs });
        const sub = new Client(opts.url, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null });
        clients = { cmd, sub };
        cmd.on('ready', () => core.connected(monotonicMs()));
        cmd.on('close', () => core.disconnected(monotonicMs()));
        const onError = (error: Error) => core.clientError(error.message);
        cmd.on('error', onError);
        sub.on('error', onError);
        void sub.subscribe(core.keys.events).catch(onError);
        sub.on('message', (_channel: string, message: string) => core.message(message, monotonicMs()));
        // The worker registry: every node, every period, whatever its role.
        heartbeat = setInterval(() => core.heartbeat(opts.report(), monotonicMs()), retryPeriodMs);
      },
      (error: Error) => core.clientError(`cannot load ioredis: ${error.message}`),
    );

    return () => {
      stopped = true;
      if (heartbeat !== null) clearInterval(heartbeat);
      const loaded = clients;
      if (loaded === null) return;
      // A restart with this id need not wait for our member key to expire.
      const unregister = core.leave(monotonicMs());
      if (unregister !== null) void inFlight.add(run(unregister).then(() => {}, () => {}));
      // Let a release sent during shutdown reach the server before the connection goes.
      void inFlight.settled().then(() => {
        loaded.cmd.disconnect();
        loaded.sub.disconnect();
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
