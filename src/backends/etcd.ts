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
 */
import { randomUUID } from 'node:crypto';
import { fromCallback } from 'xstate';
import type { Logger } from 'pino';
import type { CoordinatorCommand, LeaseEvent, LeaseTiming } from '../../machines/lease.machine.ts';
import { TransportStats } from '../transport/stats.ts';
import { monotonicMs } from '../runtime/clock.ts';
import type { Coordinator } from './coordinator.ts';
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

/** The duplicate-id error is logged at most once per this window while the conflict lasts. */
const CONFLICT_LOG_WINDOW_MS = 10_000;

/** Bound on one watch line, so a misbehaving proxy cannot grow our buffer without limit. */
const MAX_WATCH_LINE_BYTES = 1 << 20;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
/** The end of a prefix range: the prefix with its last byte incremented. */
function rangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  bytes[bytes.length - 1]!++;
  return bytes.toString('base64');
}

interface Kv {
  key?: string;
  value?: string;
  create_revision?: string;
  lease?: string;
}

interface Candidate {
  nodeId: string;
  revision: number;
  /** Lease id as etcd prints it (an int64 in a string; too large for a JS number). */
  lease: string;
}

export function createEtcdCoordinator(opts: EtcdCoordinatorOptions): Coordinator {
  const stats = new TransportStats();
  const log = opts.log.child({ component: 'etcd' });
  const prefix = `${opts.prefix.replace(/\/+$/, '')}/`;
  const myKey = `${prefix}${opts.nodeId}`;
  /**
   * One live process per node id: `<prefix>.members/<nodeId>` holds the incarnation of the
   * process that registered the id, on that process's lease. A second live process finds
   * another incarnation there and is refused; a restarted one finds its dead predecessor's
   * entry only until that lease expires. Outside the election range, so it is no candidate.
   */
  const memberKey = `${prefix.slice(0, -1)}.members/${opts.nodeId}`;
  const incarnation = randomUUID();
  const ttlSeconds = Math.max(1, Math.round(opts.timing.ttlMs / 1000));
  const requestTimeoutMs = requestTimeoutOf(opts.timing);
  const reconnectBaseMs = opts.reconnectBaseMs ?? 100;
  const reconnectMaxMs = opts.reconnectMaxMs ?? 2_000;
  const inFlight = new InFlight();
  const validity = new LeaseValidity(opts.timing.renewDeadlineMs);
  let endpoint = 0;

  /** One gateway call, bounded; throws on transport errors and non-2xx answers. */
  async function call<T>(path: string, body: unknown, timeoutMs = requestTimeoutMs): Promise<T> {
    const base = opts.endpoints[endpoint % opts.endpoints.length]!;
    stats.sent++;
    try {
      const res = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (!res.ok) throw new HastateError('HASTATE_TRANSPORT', `${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
      stats.received++;
      return JSON.parse(text) as T;
    } catch (error) {
      endpoint++; // try the next member next time
      throw error;
    }
  }

  const coordinator = fromCallback<CoordinatorCommand, { nodeId: string }>(({ sendBack, receive }) => {
    const send = (e: LeaseEvent) => {
      validity.note(e, monotonicMs());
      sendBack(e);
    };
    let closed = false;
    let leaseId: string | null = null;
    let failures = 0;
    let probeTimer: NodeJS.Timeout | undefined;
    let watchAbort: AbortController | null = null;
    /** Watches in a row that ended before etcd answered anything: their restarts back off. */
    let watchFailures = 0;
    /** Whether the member key holds our incarnation; we never campaign before it does. */
    let registered = false;
    let conflictLoggedMs: number | null = null;
    let registerTimer: NodeJS.Timeout | undefined;

    const markUp = () => {
      failures = 0;
      if (stats.up) return;
      stats.up = true;
      stats.lastError = null;
      log.info({ endpoints: opts.endpoints }, 'etcd reachable');
      send({ type: 'COORDINATOR.UP' });
      startWatch();
    };
    const markFailed = (what: string, error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      stats.lastError = `${what}: ${message}`;
      stats.sendFailed(`coordinator request failed: etcd ${what}: ${message}`, log);
      failures++;
      if (!stats.up) return;
      stats.up = false;
      log.warn({ endpoints: opts.endpoints }, 'etcd unreachable; retrying');
      send({ type: 'COORDINATOR.DOWN', reason: message });
      scheduleProbe();
    };
    /** While down, nothing else calls etcd: probe with capped backoff until it answers. */
    const scheduleProbe = () => {
      if (closed) return;
      clearTimeout(probeTimer);
      const delay = failures === 0 ? 0 : backoffMs(failures, reconnectBaseMs, reconnectMaxMs);
      probeTimer = setTimeout(() => {
        call('/v3/maintenance/status', {}).then(markUp, (error: unknown) => {
          markFailed('probe', error);
          if (!stats.up) scheduleProbe();
        });
      }, delay);
    };

    const track = (what: string, p: Promise<void>) => {
      void inFlight.add(p.then(markUp, (error: unknown) => markFailed(what, error)));
    };

    async function keepAlive(): Promise<boolean> {
      if (leaseId === null) return false;
      const r = await call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: leaseId });
      return Number(r.result?.TTL ?? 0) > 0;
    }

    async function grant(): Promise<void> {
      const r = await call<{ ID: string; TTL: string }>('/v3/lease/grant', { TTL: ttlSeconds });
      leaseId = r.ID;
      if (Number(r.TTL) !== ttlSeconds) log.warn({ askedSeconds: ttlSeconds, grantedSeconds: Number(r.TTL) }, 'etcd granted a different lease TTL than asked (its minimum is 1.5 x its election timeout)');
    }

    async function candidates(): Promise<Candidate[]> {
      const r = await call<{ kvs?: Kv[] }>('/v3/kv/range', { key: b64(prefix), range_end: rangeEnd(prefix), sort_order: 'ASCEND', sort_target: 'CREATE' });
      return (r.kvs ?? []).map((kv) => ({ nodeId: unb64(kv.key).slice(prefix.length), revision: Number(kv.create_revision), lease: kv.lease ?? '0' }));
    }

    const createMine = () =>
      call('/v3/kv/txn', {
        compare: [{ target: 'CREATE', key: b64(myKey), create_revision: '0' }],
        success: [{ request_put: { key: b64(myKey), value: b64(opts.nodeId), lease: leaseId } }],
        failure: [],
      });

    function notePeers(list: Candidate[]): void {
      const now = monotonicMs();
      stats.peers.clear();
      list.forEach((c, i) => {
        if (c.nodeId === opts.nodeId) return;
        stats.peers.set(c.nodeId, { nodeId: c.nodeId, role: i === 0 ? 'primary' : 'standby', priority: 0, epoch: list[0]!.revision, address: 'etcd', lastSeenMs: now });
      });
    }

    /** Registers our incarnation under the node id, or reports the live process that holds it. */
    async function register(): Promise<boolean> {
      const r = await call<{ succeeded?: boolean; responses?: { response_range?: { kvs?: Kv[] } }[] }>('/v3/kv/txn', {
        compare: [{ target: 'CREATE', key: b64(memberKey), create_revision: '0' }],
        success: [{ request_put: { key: b64(memberKey), value: b64(incarnation), lease: leaseId } }],
        failure: [{ request_range: { key: b64(memberKey) } }],
      });
      const holder = r.succeeded === true ? incarnation : unb64(r.responses?.[0]?.response_range?.kvs?.[0]?.value);
      if (holder === incarnation) {
        if (!registered && conflictLoggedMs !== null) {
          log.info({ nodeId: opts.nodeId }, 'node id registered: the other process with this id is gone');
          send({ type: 'COORDINATOR.UP' });
        }
        registered = true;
        conflictLoggedMs = null;
        return true;
      }
      registered = false;
      const from = `etcd ${opts.endpoints.join(',')} (incarnation ${holder || '?'})`;
      const now = monotonicMs();
      if (conflictLoggedMs === null || now - conflictLoggedMs >= CONFLICT_LOG_WINDOW_MS) {
        conflictLoggedMs = now;
        log.error({ nodeId: opts.nodeId, key: memberKey, other: holder }, `another live process is registered with our node id ${opts.nodeId} at ${from}; refusing to campaign`);
      }
      send({ type: 'IDENTITY.CONFLICT', from });
      // The machine stops campaigning while refused: look again every period on our own.
      clearTimeout(registerTimer);
      registerTimer = setTimeout(() => {
        if (!closed && stats.up) track('registration', (async () => {
          if (!(await keepAlive())) await grant();
          await register();
        })());
      }, opts.timing.retryPeriodMs);
      return false;
    }

    async function campaign(): Promise<void> {
      const sentAt = monotonicMs();
      if (!(await keepAlive())) await grant();
      if (!(await register())) return;
      // Create our candidate key on our lease unless it is there (it carries our create revision).
      await createMine();
      let list = await candidates();
      const mine = list.find((c) => c.nodeId === opts.nodeId);
      if (mine !== undefined && mine.lease !== leaseId) {
        // Our key on another lease: a previous incarnation of this node (killed and restarted
        // within the TTL). Leading with it would end when that lease expires, while our own
        // renewals kept succeeding. Replace it: a new key, a new revision, a new token.
        await call('/v3/kv/txn', { compare: [{ target: 'LEASE', key: b64(myKey), lease: mine.lease }], success: [{ request_delete_range: { key: b64(myKey) } }], failure: [] });
        await createMine();
        list = await candidates();
      }
      notePeers(list);
      const leader = list[0];
      if (leader === undefined) return;
      if (leader.nodeId === opts.nodeId) send({ type: 'LEASE.ACQUIRED', token: leader.revision, rttMs: monotonicMs() - sentAt });
      else send({ type: 'LEADER.OBSERVED', leaderId: leader.nodeId, token: leader.revision });
    }

    async function renew(token: number): Promise<void> {
      const sentAt = monotonicMs();
      if (await keepAlive()) {
        // A live lease is not enough: our key must still lead (and be on this lease).
        const list = await candidates();
        notePeers(list);
        const first = list[0];
        if (first !== undefined && first.nodeId === opts.nodeId && first.lease === leaseId && first.revision === token) {
          send({ type: 'LEASE.RENEWED', token, rttMs: monotonicMs() - sentAt });
          return;
        }
        send({ type: 'LEASE.LOST', token, reason: first === undefined ? 'our key is gone' : `the key of ${first.nodeId} (revision ${first.revision}) leads` });
        if (first !== undefined && first.nodeId !== opts.nodeId) send({ type: 'LEADER.OBSERVED', leaderId: first.nodeId, token: first.revision });
        return;
      }
      leaseId = null;
      send({ type: 'LEASE.LOST', token, reason: 'the lease expired in etcd' });
    }

    async function release(): Promise<void> {
      if (leaseId === null) return;
      const id = leaseId;
      leaseId = null;
      // Revoking the lease deletes our key; the watchers campaign at once.
      await call('/v3/lease/revoke', { ID: id });
    }

    /** Deletions under the prefix mean the leader may have changed: look now, not at the next period. */
    function startWatch(): void {
      if (closed || watchAbort !== null) return;
      const abort = new AbortController();
      watchAbort = abort;
      const base = opts.endpoints[endpoint % opts.endpoints.length]!;
      let answered = false;
      void (async () => {
        try {
          const res = await fetch(`${base}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: b64(prefix), range_end: rangeEnd(prefix) } }), signal: abort.signal });
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
              const events = (JSON.parse(line) as { result?: { events?: { type?: string }[] } }).result?.events ?? [];
              if (events.some((e) => e.type === 'DELETE')) send({ type: 'LEADER.OBSERVED', leaderId: null, token: 0 });
            }
          }
        } catch (error) {
          if (!abort.signal.aborted) log.debug({ err: error }, 'etcd watch ended; it restarts when etcd answers again');
        } finally {
          if (watchAbort === abort) watchAbort = null;
          watchFailures = answered ? 0 : watchFailures + 1;
          // Restart while etcd is up (when it is down, markUp restarts it), backing off while
          // watches keep failing (a proxy without streaming, say) so we never spin.
          const delayMs = backoffMs(watchFailures + 1, reconnectBaseMs, reconnectMaxMs);
          if (!closed && stats.up) setTimeout(startWatch, delayMs);
        }
      })();
    }

    receive((command) => {
      if (closed || !stats.up) {
        stats.sendErrors++;
        return;
      }
      if (command.type === 'CAMPAIGN') track('campaign', campaign());
      else if (command.type === 'RENEW') track('renew', renew(command.token));
      else {
        validity.end();
        track('release', release());
      }
    });

    scheduleProbe();
    return () => {
      closed = true;
      stats.up = false;
      clearTimeout(probeTimer);
      clearTimeout(registerTimer);
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
