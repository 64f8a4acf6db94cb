/**
 * The lease simulator's coordinator actors: the real Redis and etcd cores (src/backends/
 * redis-core.ts, etcd-core.ts), each run by a shell that does what redis.ts and etcd.ts do with
 * their client, timers and watch, but over the simulated network (`SimNet`) and on the node's
 * simulated clock. Only the server, the network and the clock are not the real ones.
 */
import { fromCallback } from 'xstate';
import type { CoordinatorCommand, LeaseTiming } from '../../machines/lease.machine.ts';
import { restartDelayMs as backoffMs } from '../../machines/backoff.ts';
import type { WorkerReport } from '../backends/coordinator.ts';
import { EtcdCore, type EtcdCall, type EtcdHost, type EtcdTimer } from '../backends/etcd-core.ts';
import type { CoreHost, Outcome } from '../backends/lease-core.ts';
import type { LeaseValidity } from '../backends/lease-keeping.ts';
import { RedisCore, type RedisCall } from '../backends/redis-core.ts';
import { TransportStats } from '../transport/stats.ts';
import type { Entry } from './scheduler.ts';

/** What one node's coordinator sees of the simulated world; everything runs on that node's loop. */
export interface SimNet {
  /** The node's clock now. */
  localMs(): number;
  /** Runs `fn` after `delayMs` on the node's clock (a timer), unless the process died meanwhile. */
  timer(delayMs: number, fn: () => void): Entry;
  /** One request to the server, bounded by the request timeout: `answer` gets its reply, error or timeout. */
  request(call: unknown, answer: (outcome: Outcome) => void): void;
  /** Whether a connection attempt reaches the server now. */
  reachable(): boolean;
  /** Pushed text (a published message, a watch line) for this node from now on. */
  listen(fn: (text: string) => void): void;
}

export interface SimCoordinatorOptions {
  backend: 'redis' | 'etcd';
  nodeId: string;
  /** This process; a restarted node is another incarnation. */
  incarnation: string;
  timing: LeaseTiming;
  /** Redis key prefix, or etcd election prefix without its trailing `/`. */
  prefix: string;
  validity: LeaseValidity;
  report: () => WorkerReport;
}

/** The reconnect backoff the real coordinators default to. */
const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 2_000;

function hostFor<Call>(emit: (e: Parameters<CoreHost<Call>['emit']>[0]) => void, stats: TransportStats, net: SimNet, settle: (id: number, outcome: Outcome) => void): CoreHost<Call> {
  return {
    emit,
    send: (id, call) => net.request(call, (outcome) => settle(id, outcome)),
    log: () => {},
    drop: (reason, detail) => stats.drop(reason, detail, null),
    failed: (message) => stats.sendFailed(message, null),
  };
}

/** The `coordinator` actor for one node process on the simulated network. */
export function simCoordinator(opts: SimCoordinatorOptions, net: SimNet) {
  const stats = new TransportStats();
  return fromCallback<CoordinatorCommand, { nodeId: string }>(({ sendBack, receive }) => {
    if (opts.backend === 'redis') {
      const host = hostFor<RedisCall>(sendBack, stats, net, (id, outcome) => core.settle(id, outcome, net.localMs()));
      const core = new RedisCore({ keyPrefix: opts.prefix, nodeId: opts.nodeId, incarnation: opts.incarnation, ttlMs: opts.timing.ttlMs, where: 'sim' }, host, stats, opts.validity);
      // ioredis: connect (retrying with backoff until the server answers), then subscribe.
      const connect = (attempt: number) => {
        if (net.reachable()) {
          net.listen((text) => core.message(text, net.localMs()));
          core.connected(net.localMs());
        } else net.timer(backoffMs(attempt, RECONNECT_BASE_MS, RECONNECT_MAX_MS), () => connect(attempt + 1));
      };
      net.timer(0, () => connect(1));
      receive((command) => core.command(command, net.localMs()));
      const beat = () => {
        core.heartbeat(opts.report(), net.localMs());
        net.timer(opts.timing.retryPeriodMs, beat);
      };
      net.timer(opts.timing.retryPeriodMs, beat);
      // A crash sends nothing more: the simulator drops whatever a dead process would send.
      return () => void core.leave(net.localMs());
    }
    const timers = new Map<EtcdTimer, Entry>();
    let watching = false;
    const host: EtcdHost = {
      ...hostFor<EtcdCall>(sendBack, stats, net, (id, outcome) => core.settle(id, outcome, net.localMs())),
      schedule: (timer, delayMs) => {
        const old = timers.get(timer);
        if (old !== undefined) old.cancelled = true;
        timers.set(timer, net.timer(delayMs, () => core.fire(timer, net.localMs())));
      },
      // The watch stream stays open for the process's life (TCP); lines lost on the way are missed.
      startWatch: () => {
        if (watching) return;
        watching = true;
        net.listen((line) => core.watchLine(line, net.localMs()));
      },
    };
    const core = new EtcdCore(
      { prefix: opts.prefix, nodeId: opts.nodeId, incarnation: opts.incarnation, ttlMs: opts.timing.ttlMs, retryPeriodMs: opts.timing.retryPeriodMs, reconnectBaseMs: RECONNECT_BASE_MS, reconnectMaxMs: RECONNECT_MAX_MS, where: 'sim' },
      host,
      stats,
      opts.validity,
    );
    receive((command) => core.command(command, net.localMs()));
    core.start(net.localMs());
    return () => core.close(net.localMs());
  });
}
