/**
 * The etcd coordinator's pure core (see lease-core.ts): the gateway calls each lease-machine
 * command takes (keep-alive, grant, put-if-absent transactions, the candidates' range, revoke),
 * written as flows that yield one call at a time, and what their replies and the watch's lines
 * mean for the lease machine. etcd.ts runs it over HTTP; the lease simulator runs it against an
 * in-memory model of etcd's keys, leases and revisions. The election itself is described in
 * etcd.ts.
 */
import type { CoordinatorCommand } from '../../machines/lease.machine.ts';
import { restartDelayMs as backoffMs } from '../../machines/backoff.ts';
import type { TransportStats } from '../transport/stats.ts';
import { LeaseCore, type CoreHost, type Flow } from './lease-core.ts';
import type { LeaseValidity } from './lease-keeping.ts';

/** One call to etcd's JSON gateway: POST `path` with `body`. */
export interface EtcdCall {
  path: string;
  body: unknown;
}

/** The core's timers, which the shell (or the simulator) runs and fires back with `fire`. */
export type EtcdTimer = 'probe' | 'register';

export interface EtcdHost extends CoreHost<EtcdCall> {
  /** Fire `core.fire(timer)` after delayMs; a timer of the same name still pending is replaced. */
  schedule(timer: EtcdTimer, delayMs: number): void;
  /** Watch deletions under the prefix (unless a watch runs) and pass each line to `core.watchLine`. */
  startWatch(): void;
}

export interface EtcdCoreOptions {
  prefix: string;
  nodeId: string;
  incarnation: string;
  ttlMs: number;
  retryPeriodMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** The endpoints, for messages. */
  where: string;
}


export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: unknown): string => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
/** The end of a prefix range: the prefix with its last byte incremented. */
export function rangeEnd(prefix: string): string {
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

/** A reply as the shape we expect, or an empty one: every field we read is optional. */
const reply = <T>(value: unknown): Partial<T> => (typeof value === 'object' && value !== null ? (value as Partial<T>) : {});

export class EtcdCore extends LeaseCore<EtcdCall> {
  /** `<prefix>/`: the election's key range. */
  readonly prefix: string;
  readonly #myKey: string;
  /**
   * One live process per node id: `<prefix>.members/<nodeId>` holds the incarnation of the
   * process that registered the id, on that process's lease. A second live process finds
   * another incarnation there and is refused; a restarted one finds its dead predecessor's
   * entry only until that lease expires. Outside the election range, so it is no candidate.
   */
  readonly #memberKey: string;
  readonly #ttlSeconds: number;
  #leaseId: string | null = null;
  #failures = 0;
  /** Whether the member key holds our incarnation; we never campaign before it does. */
  #registered = false;

  constructor(
    readonly opts: EtcdCoreOptions,
    protected override readonly host: EtcdHost,
    stats: TransportStats,
    validity: LeaseValidity,
  ) {
    super(host, stats, validity);
    this.prefix = `${opts.prefix.replace(/\/+$/, '')}/`;
    this.#myKey = `${this.prefix}${opts.nodeId}`;
    this.#memberKey = `${this.prefix.slice(0, -1)}.members/${opts.nodeId}`;
    this.#ttlSeconds = Math.max(1, Math.round(opts.ttlMs / 1000));
  }

  /** The actor started: probe etcd at once. */
  start(nowMs: number): void {
    this.at(nowMs);
    this.#scheduleProbe();
  }

  command(command: CoordinatorCommand, nowMs: number): void {
    this.at(nowMs);
    if (this.closed || !this.stats.up) {
      this.stats.sendErrors++;
      return;
    }
    if (command.type === 'CAMPAIGN') this.#track('campaign', this.#campaign());
    else if (command.type === 'RENEW') this.#track('renew', this.#renew(command.token));
    else {
      this.validity.end();
      this.#track('release', this.#release());
    }
  }

  fire(timer: EtcdTimer, nowMs: number): void {
    this.at(nowMs);
    if (this.closed) return;
    if (timer === 'probe') {
      this.call({ path: '/v3/maintenance/status', body: {} }, (outcome) => {
        if (outcome.ok) return this.#markUp();
        this.#markFailed('probe', outcome.error);
        if (!this.stats.up) this.#scheduleProbe();
      });
    } else if (this.stats.up) {
      const self = this;
      this.#track('registration', (function* () {
        if (!(yield* self.#keepAlive())) yield* self.#grant();
        yield* self.#register();
      })());
    }
  }

  /** One line of the watch stream: a deletion under the prefix may mean the leader changed. */
  watchLine(line: string, nowMs: number): void {
    this.at(nowMs);
    const events = reply<{ result: { events?: { type?: string }[] } }>(JSON.parse(line)).result?.events ?? [];
    if (events.some((e) => e.type === 'DELETE')) this.emit({ type: 'LEADER.OBSERVED', leaderId: null, token: 0 });
  }

  #markUp(): void {
    this.#failures = 0;
    if (this.stats.up) return;
    this.stats.up = true;
    this.stats.lastError = null;
    this.host.log('info', { endpoints: this.opts.where }, 'etcd reachable');
    this.emit({ type: 'COORDINATOR.UP' });
    this.host.startWatch();
  }

  #markFailed(what: string, message: string): void {
    this.stats.lastError = `${what}: ${message}`;
    this.host.failed(`coordinator request failed: etcd ${what}: ${message}`);
    this.#failures++;
    if (!this.stats.up) return;
    this.stats.up = false;
    this.host.log('warn', { endpoints: this.opts.where }, 'etcd unreachable; retrying');
    this.emit({ type: 'COORDINATOR.DOWN', reason: message });
    this.#scheduleProbe();
  }

  /** While down, nothing else calls etcd: probe with capped backoff until it answers. */
  #scheduleProbe(): void {
    if (this.closed) return;
    this.host.schedule('probe', this.#failures === 0 ? 0 : backoffMs(this.#failures, this.opts.reconnectBaseMs, this.opts.reconnectMaxMs));
  }

  #track(what: string, flow: Flow<EtcdCall>): void {
    this.run(flow, () => this.#markUp(), (error) => this.#markFailed(what, error));
  }

  *#keepAlive(): Flow<EtcdCall, boolean> {
    if (this.#leaseId === null) return false;
    const r = reply<{ result: { TTL?: string } }>(yield { path: '/v3/lease/keepalive', body: { ID: this.#leaseId } });
    return Number(r.result?.TTL ?? 0) > 0;
  }

  *#grant(): Flow<EtcdCall> {
    const r = reply<{ ID: string; TTL: string }>(yield { path: '/v3/lease/grant', body: { TTL: this.#ttlSeconds } });
    this.#leaseId = r.ID ?? null;
    if (Number(r.TTL) !== this.#ttlSeconds) this.host.log('warn', { askedSeconds: this.#ttlSeconds, grantedSeconds: Number(r.TTL) }, 'etcd granted a different lease TTL than asked (its minimum is 1.5 x its election timeout)');
  }

  *#candidates(): Flow<EtcdCall, Candidate[]> {
    const r = reply<{ kvs: Kv[] }>(yield { path: '/v3/kv/range', body: { key: b64(this.prefix), range_end: rangeEnd(this.prefix), sort_order: 'ASCEND', sort_target: 'CREATE' } });
    return (r.kvs ?? []).map((kv) => ({ nodeId: unb64(kv.key).slice(this.prefix.length), revision: Number(kv.create_revision), lease: kv.lease ?? '0' }));
  }

  /** Our candidate key on our lease, unless it is there (it carries our create revision). */
  #createMine(): EtcdCall {
    const key = b64(this.#myKey);
    return { path: '/v3/kv/txn', body: { compare: [{ target: 'CREATE', key, create_revision: '0' }], success: [{ request_put: { key, value: b64(this.opts.nodeId), lease: this.#leaseId } }], failure: [] } };
  }

  #notePeers(list: Candidate[]): void {
    this.stats.peers.clear();
    list.forEach((c, i) => {
      if (c.nodeId === this.opts.nodeId) return;
      this.stats.peers.set(c.nodeId, { nodeId: c.nodeId, role: i === 0 ? 'primary' : 'standby', priority: 0, epoch: list[0]!.revision, address: 'etcd', lastSeenMs: this.nowMs });
    });
  }

  /** Registers our incarnation under the node id, or reports the live process that holds it. */
  *#register(): Flow<EtcdCall, boolean> {
    const key = b64(this.#memberKey);
    const r = reply<{ succeeded: boolean; responses: { response_range?: { kvs?: Kv[] } }[] }>(
      yield { path: '/v3/kv/txn', body: { compare: [{ target: 'CREATE', key, create_revision: '0' }], success: [{ request_put: { key, value: b64(this.opts.incarnation), lease: this.#leaseId } }], failure: [{ request_range: { key } }] } },
    );
    const holder = r.succeeded === true ? this.opts.incarnation : unb64(r.responses?.[0]?.response_range?.kvs?.[0]?.value);
    if (holder === this.opts.incarnation) {
      if (!this.#registered && this.conflictLoggedMs !== null) {
        this.host.log('info', { nodeId: this.opts.nodeId }, 'node id registered: the other process with this id is gone');
        this.emit({ type: 'COORDINATOR.UP' });
      }
      this.#registered = true;
      this.conflictLoggedMs = null;
      return true;
    }
    this.#registered = false;
    const from = `etcd ${this.opts.where} (incarnation ${holder || '?'})`;
    if (this.conflictLogDue()) {
      this.host.log('error', { nodeId: this.opts.nodeId, key: this.#memberKey, other: holder }, `another live process is registered with our node id ${this.opts.nodeId} at ${from}; refusing to campaign`);
    }
    this.emit({ type: 'IDENTITY.CONFLICT', from });
    // The machine stops campaigning while refused: look again every period on our own.
    this.host.schedule('register', this.opts.retryPeriodMs);
    return false;
  }

  *#campaign(): Flow<EtcdCall> {
    const sentAtMs = this.nowMs;
    if (!(yield* this.#keepAlive())) yield* this.#grant();
    if (!(yield* this.#register())) return;
    yield this.#createMine();
    let list = yield* this.#candidates();
    const mine = list.find((c) => c.nodeId === this.opts.nodeId);
    if (mine !== undefined && mine.lease !== this.#leaseId) {
      // Our key on another lease: a previous incarnation of this node (killed and restarted
      // within the TTL). Leading with it would end when that lease expires, while our own
      // renewals kept succeeding. Replace it: a new key, a new revision, a new token.
      yield { path: '/v3/kv/txn', body: { compare: [{ target: 'LEASE', key: b64(this.#myKey), lease: mine.lease }], success: [{ request_delete_range: { key: b64(this.#myKey) } }], failure: [] } };
      yield this.#createMine();
      list = yield* this.#candidates();
    }
    this.#notePeers(list);
    const leader = list[0];
    if (leader === undefined) return;
    if (leader.nodeId === this.opts.nodeId) this.emit({ type: 'LEASE.ACQUIRED', token: leader.revision, rttMs: this.nowMs - sentAtMs });
    else this.emit({ type: 'LEADER.OBSERVED', leaderId: leader.nodeId, token: leader.revision });
  }

  *#renew(token: number): Flow<EtcdCall> {
    const sentAtMs = this.nowMs;
    if (yield* this.#keepAlive()) {
      // A live lease is not enough: our key must still lead (and be on this lease).
      const list = yield* this.#candidates();
      this.#notePeers(list);
      const first = list[0];
      if (first !== undefined && first.nodeId === this.opts.nodeId && first.lease === this.#leaseId && first.revision === token) {
        this.emit({ type: 'LEASE.RENEWED', token, rttMs: this.nowMs - sentAtMs });
        return;
      }
      this.emit({ type: 'LEASE.LOST', token, reason: first === undefined ? 'our key is gone' : `the key of ${first.nodeId} (revision ${first.revision}) leads` });
      if (first !== undefined && first.nodeId !== this.opts.nodeId) this.emit({ type: 'LEADER.OBSERVED', leaderId: first.nodeId, token: first.revision });
      return;
    }
    this.#leaseId = null;
    this.emit({ type: 'LEASE.LOST', token, reason: 'the lease expired in etcd' });
  }

  *#release(): Flow<EtcdCall> {
    if (this.#leaseId === null) return;
    const id = this.#leaseId;
    this.#leaseId = null;
    // Revoking the lease deletes our key; the watchers campaign at once.
    yield { path: '/v3/lease/revoke', body: { ID: id } };
  }
}
