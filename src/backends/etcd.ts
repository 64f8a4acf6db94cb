/**
 * The etcd coordinator: the lease machine's `coordinator` actor on etcd v3, through etcd's own
 * JSON gateway (plain HTTP, no client library, so that lease loss is ours to detect).
 *
 * The election is etcd's recipe (the one behind `etcdctl elect`): every candidate keeps a key
 * `<prefix>/<nodeId>` attached to its own lease; the key with the lowest create revision leads,
 * and that revision is the epoch and fencing token. A campaign keeps our lease alive, creates
 * our key if it is missing and reads who leads; the leader's renewal is a lease keep-alive.
 * A watch on the prefix reports deletions at once, so a resign (lease revoked) hands over
 * without waiting for a period. Keys vanish with their leases, so a crashed leader is replaced
 * when its lease expires.
 *
 * etcd raises a TTL below its minimum (1.5 x election timeout, rounded up to a second)
 * silently; the granted TTL is logged when it differs. The renew deadline still protects: it
 * counts on our clock and is below the TTL we asked for.
 *
 * This file is the I/O shell: HTTP to the gateway (a bound on every call, the next endpoint
 * after a failure), the watch stream, the timers and the logging. Which calls to make and what
 * their replies mean is the pure core's (etcd-core.ts), which the lease simulator runs too.
 */
import { randomUUID } from 'node:crypto';
import { fromCallback } from 'xstate';
import type { Logger } from 'pino';
import type { CoordinatorCommand, LeaseTiming } from '../../machines/lease.machine.ts';
import { TransportStats } from '../transport/stats.ts';
import { monotonicMs } from '../runtime/clock.ts';
import type { Coordinator } from './coordinator.ts';
import { b64, EtcdCore, rangeEnd, type EtcdCall, type EtcdHost, type EtcdTimer } from './etcd-core.ts';
import { InFlight, LeaseValidity, requestTimeoutMs as requestTimeoutOf } from './lease-keeping.ts';
import { restartDelayMs as backoffMs } from '../../machines/backoff.ts';
import { HastateError } from '../errors.ts';

export interface EtcdCoordinatorOptions {
  /** Base URLs of etcd members; on a failure the next one is tried. */
  endpoints: readonly string[];
  prefix: string;
  nodeId: string;
  timing: LeaseTiming;
  log: Logger;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

/** Bound on one watch line, so a misbehaving proxy cannot grow our buffer without limit. */
const MAX_WATCH_LINE_BYTES = 1 << 20;

export function createEtcdCoordinator(opts: EtcdCoordinatorOptions): Coordinator {
  const stats = new TransportStats();
  const log = opts.log.child({ component: 'etcd' });
  const requestTimeoutMs = requestTimeoutOf(opts.timing);
  const reconnectBaseMs = opts.reconnectBaseMs ?? 100;
  const reconnectMaxMs = opts.reconnectMaxMs ?? 2_000;
  const inFlight = new InFlight();
  const validity = new LeaseValidity(opts.timing.renewDeadlineMs);
  let endpoint = 0;

  /** One gateway call, bounded; throws on transport errors and non-2xx answers. */
  async function post(call: EtcdCall): Promise<unknown> {
    const base = opts.endpoints[endpoint % opts.endpoints.length]!;
    try {
      const res = await fetch(`${base}${call.path}`, { method: 'POST', body: JSON.stringify(call.body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(requestTimeoutMs) });
      const text = await res.text();
      if (!res.ok) throw new HastateError('HASTATE_TRANSPORT', `${call.path}: HTTP ${res.status} ${text.slice(0, 200)}`);
      return JSON.parse(text) as unknown;
    } catch (error) {
      endpoint++; // try the next member next time
      throw error;
    }
  }

  const coordinator = fromCallback<CoordinatorCommand, { nodeId: string }>(({ sendBack, receive }) => {
    let closed = false;
    const timers = new Map<EtcdTimer, NodeJS.Timeout>();
    let watchAbort: AbortController | null = null;
    /** Watches in a row that ended before etcd answered anything: their restarts back off. */
    let watchFailures = 0;

    const host: EtcdHost = {
      emit: (e) => sendBack(e),
      send: (id, call) =>
        void inFlight.add(
          post(call).then(
            (value) => core.settle(id, { ok: true, value }, monotonicMs()),
            (error: unknown) => core.settle(id, { ok: false, error: error instanceof Error ? error.message : String(error) }, monotonicMs()),
          ),
        ),
      log: (level, fields, msg) => log[level](fields, msg),
      drop: (reason, detail, level) => stats.drop(reason, detail, log, level),
      failed: (message) => stats.sendFailed(message, log),
      schedule: (timer, delayMs) => {
        clearTimeout(timers.get(timer));
        timers.set(timer, setTimeout(() => core.fire(timer, monotonicMs()), delayMs));
      },
      startWatch,
    };
    const core = new EtcdCore(
      { prefix: opts.prefix, nodeId: opts.nodeId, incarnation: randomUUID(), ttlMs: opts.timing.ttlMs, retryPeriodMs: opts.timing.retryPeriodMs, reconnectBaseMs, reconnectMaxMs, where: opts.endpoints.join(',') },
      host,
      stats,
      validity,
    );

    /** Deletions under the prefix mean the leader may have changed: look now, not at the next period. */
    function startWatch(): void {
      if (closed || watchAbort !== null) return;
      const abort = new AbortController();
      watchAbort = abort;
      const base = opts.endpoints[endpoint % opts.endpoints.length]!;
      let answered = false;
      void (async () => {
        try {
          const res = await fetch(`${base}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: b64(core.prefix), range_end: rangeEnd(core.prefix) } }), signal: abort.signal });
          if (!res.ok || res.body === null) throw new HastateError('HASTATE_TRANSPORT', `watch: HTTP ${res.status}`);
          let buffer = '';
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { done, value: chunk } = await reader.read();
            if (done) break;
            buffer += chunk;
            if (buffer.length > MAX_WATCH_LINE_BYTES) throw new HastateError('HASTATE_TRANSPORT', 'watch: line too long');
            let nl;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              answered = true;
              core.watchLine(line, monotonicMs());
            }
          }
        } catch (error) {
          if (!abort.signal.aborted) log.debug({ err: error }, 'etcd watch ended; it restarts when etcd answers again');
        } finally {
          if (watchAbort === abort) watchAbort = null;
          watchFailures = answered ? 0 : watchFailures + 1;
          // Restart while etcd is up (when it is down, the core restarts it once it answers),
          // backing off while watches keep failing (a proxy without streaming, say) so we never spin.
          const delayMs = backoffMs(watchFailures + 1, reconnectBaseMs, reconnectMaxMs);
          if (!closed && stats.up) setTimeout(startWatch, delayMs);
        }
      })();
    }

    receive((command) => core.command(command, monotonicMs()));
    core.start(monotonicMs());
    return () => {
      closed = true;
      core.close(monotonicMs());
      stats.up = false;
      for (const timer of timers.values()) clearTimeout(timer);
      watchAbort?.abort();
    };
  });

  return {
    coordinator,
    stats,
    flush: (timeoutMs) => inFlight.flush(timeoutMs),
    leaseValidUntilMs: () => validity.untilMs(),
    describe: () => ({ backend: 'etcd', endpoints: opts.endpoints, prefix: opts.prefix }),
  };
}
