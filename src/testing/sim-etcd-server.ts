/**
 * An in-memory model of the etcd v3 JSON gateway calls the etcd coordinator makes, for the lease
 * simulator: one revision counter (every write request takes the next one), keys with create and
 * mod revisions, leases that delete their keys when they expire or are revoked, transactions
 * with CREATE and LEASE compares, sorted range reads, and watch lines for every change under a
 * prefix. Replies and errors have the shapes the real gateway sends (int64s as strings, zero
 * values and empty lists omitted, 404 "requested lease not found"; test/backends/
 * server-models.test.ts compares them with a real etcd's), so the real etcd core reads them.
 *
 * Not modelled: etcd's minimum TTL (1.5 x election timeout; the model grants what is asked) and
 * its lessor's coarse expiry checks (the model expires a lease at its exact time).
 */
import type { EtcdCall } from '../backends/etcd-core.ts';
import { HastateError } from '../errors.ts';
import type { SimServerHooks } from './sim-redis-server.ts';

interface KeyValue {
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: string;
}

interface Lease {
  ttlSeconds: number;
  expiresAtMs: number;
  keys: Set<string>;
}

type Body = Record<string, unknown>;

const fromB64 = (s: unknown): string => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
const toB64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
/** No lease: the gateway reads null, absent and "0" alike. */
const leaseOf = (v: unknown): string => (v === null || v === undefined || v === '0' || v === 0 ? '0' : String(v));

/** An error reply (the gateway's HTTP 4xx); the simulator delivers it as a failed request. */
export class SimEtcdError extends HastateError {
  constructor(message: string) {
    super('HASTATE_TRANSPORT', message);
  }
}

export class SimEtcdServer {
  #revision = 1;
  #nextLease = 7_587_000_000;
  readonly #kvs = new Map<string, KeyValue>();
  readonly #leases = new Map<string, Lease>();
  /** The key that leads (lowest create revision under the election prefix), to report grants. */
  #leader: string | null = null;

  /** `schedule` runs a server action at a simulated time (lease expiry); `isUp` says whether the server runs. */
  constructor(
    readonly hooks: SimServerHooks,
    readonly electionPrefix: string,
    readonly schedule: (atMs: number, fn: (nowMs: number) => void) => void,
    readonly isUp: () => boolean,
  ) {}

  /** A fresh cluster (its data directory lost): every key and lease gone, revisions from 1. */
  lose(): void {
    this.#kvs.clear();
    this.#leases.clear();
    this.#revision = 1;
    this.#leader = null;
  }

  /**
   * Back after an outage. Restarted, etcd's lessor gives every lease a fresh TTL (an outage
   * costs no lease); resumed from a pause, it revokes the leases that expired meanwhile.
   * While the server is down the simulator sends it nothing, and no lease expires.
   */
  resume(nowMs: number, restarted: boolean): void {
    for (const [id, lease] of [...this.#leases]) {
      if (restarted) this.#extend(id, lease, nowMs);
      else if (lease.expiresAtMs <= nowMs) this.#revoke(id);
    }
  }

  /** One gateway call at server time `nowMs`: the JSON reply, or a thrown SimEtcdError. */
  handle(call: EtcdCall, nowMs: number): unknown {
    const b = (call.body ?? {}) as Body;
    switch (call.path) {
      case '/v3/maintenance/status':
        return { header: this.#header(), version: 'sim' };
      case '/v3/lease/grant': {
        const id = String(this.#nextLease++);
        const lease = { ttlSeconds: Number(b.TTL), expiresAtMs: 0, keys: new Set<string>() };
        this.#leases.set(id, lease);
        this.#extend(id, lease, nowMs);
        return { header: this.#header(), ID: id, TTL: String(lease.ttlSeconds) };
      }
      case '/v3/lease/keepalive': {
        const id = leaseOf(b.ID);
        const lease = this.#leases.get(id);
        if (lease === undefined) return { result: { header: this.#header(), ID: id } };
        this.#extend(id, lease, nowMs);
        return { result: { header: this.#header(), ID: id, TTL: String(lease.ttlSeconds) } };
      }
      case '/v3/lease/revoke':
        if (!this.#leases.has(leaseOf(b.ID))) throw new SimEtcdError('/v3/lease/revoke: HTTP 404 etcdserver: requested lease not found');
        this.#revoke(leaseOf(b.ID));
        return { header: this.#header() };
      case '/v3/kv/range':
        return { header: this.#header(), ...this.#range(b) };
      case '/v3/kv/txn':
        return this.#txn(b);
      default:
        throw new SimEtcdError(`${call.path}: HTTP 404 not modelled`);
    }
  }

  #header() {
    return { revision: String(this.#revision) };
  }

  #extend(id: string, lease: Lease, nowMs: number): void {
    lease.expiresAtMs = nowMs + lease.ttlSeconds * 1000;
    const at = lease.expiresAtMs;
    this.schedule(at, () => {
      if (this.isUp() && this.#leases.get(id) === lease && lease.expiresAtMs === at) this.#revoke(id);
    });
  }

  /** Deletes the lease and, in one revision, its keys. */
  #revoke(id: string): void {
    const lease = this.#leases.get(id)!;
    this.#leases.delete(id);
    if (lease.keys.size === 0) return;
    this.#revision++;
    for (const key of lease.keys) this.#delete(key);
    this.#changed();
  }

  #delete(key: string): void {
    const kv = this.#kvs.get(key);
    if (kv === undefined) return;
    this.#kvs.delete(key);
    this.#leases.get(kv.lease)?.keys.delete(key);
    this.#watch({ type: 'DELETE', kv: { key: toB64(key), mod_revision: String(this.#revision) } }, key);
  }

  #range(b: Body): { kvs?: Body[]; count?: string } {
    const from = fromB64(b.key);
    const end = b.range_end === undefined ? null : fromB64(b.range_end);
    const hits = [...this.#kvs].filter(([k]) => (end === null ? k === from : Buffer.compare(Buffer.from(k), Buffer.from(from)) >= 0 && Buffer.compare(Buffer.from(k), Buffer.from(end)) < 0));
    if (b.sort_target === 'CREATE') hits.sort(([, x], [, y]) => (b.sort_order === 'DESCEND' ? y.create - x.create : x.create - y.create));
    else hits.sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    if (hits.length === 0) return {};
    return { kvs: hits.map(([k, kv]) => this.#kvJson(k, kv)), count: String(hits.length) };
  }

  #kvJson(key: string, kv: KeyValue): Body {
    return { key: toB64(key), create_revision: String(kv.create), mod_revision: String(kv.mod), version: String(kv.version), value: kv.value, ...(kv.lease === '0' ? {} : { lease: kv.lease }) };
  }

  #txn(b: Body): unknown {
    const compares = (b.compare ?? []) as Body[];
    const succeeded = compares.every((c) => this.#compare(c));
    const ops = ((succeeded ? b.success : b.failure) ?? []) as Body[];
    // A put on a lease that does not exist fails the whole transaction, before any write.
    for (const op of ops) {
      const put = op.request_put as Body | undefined;
      if (put !== undefined && leaseOf(put.lease) !== '0' && !this.#leases.has(leaseOf(put.lease))) throw new SimEtcdError('/v3/kv/txn: HTTP 404 etcdserver: requested lease not found');
    }
    const writes = ops.some((op) => op.request_put !== undefined || (op.request_delete_range !== undefined && this.#kvs.has(fromB64((op.request_delete_range as Body).key))));
    if (writes) this.#revision++;
    const responses = ops.map((op) => {
      if (op.request_range !== undefined) return { response_range: { header: this.#header(), ...this.#range(op.request_range as Body) } };
      if (op.request_put !== undefined) return { response_put: { header: this.#header(), ...this.#put(op.request_put as Body) } };
      const key = fromB64((op.request_delete_range as Body).key);
      const deleted = this.#kvs.has(key);
      this.#delete(key);
      return { response_delete_range: { header: this.#header(), ...(deleted ? { deleted: '1' } : {}) } };
    });
    if (writes) this.#changed();
    return { header: this.#header(), ...(succeeded ? { succeeded: true } : {}), ...(responses.length > 0 ? { responses } : {}) };
  }

  #compare(c: Body): boolean {
    if (c.result !== undefined && c.result !== 'EQUAL') throw new SimEtcdError(`/v3/kv/txn: compare result ${String(c.result)} not modelled`);
    const kv = this.#kvs.get(fromB64(c.key));
    if (c.target === 'CREATE') return String(kv?.create ?? 0) === String(c.create_revision ?? '0');
    if (c.target === 'LEASE') return (kv?.lease ?? '0') === leaseOf(c.lease);
    throw new SimEtcdError(`/v3/kv/txn: compare target ${String(c.target)} not modelled`);
  }

  #put(p: Body): Body {
    const key = fromB64(p.key);
    const old = this.#kvs.get(key);
    const lease = leaseOf(p.lease);
    if (old !== undefined) this.#leases.get(old.lease)?.keys.delete(key);
    const kv = { value: typeof p.value === 'string' ? p.value : '', create: old?.create ?? this.#revision, mod: this.#revision, version: (old?.version ?? 0) + 1, lease };
    this.#kvs.set(key, kv);
    this.#leases.get(lease)?.keys.add(key);
    this.#watch({ kv: this.#kvJson(key, kv) }, key);
    return {};
  }

  /** Watch lines: the coordinator watches the election prefix only. */
  #watch(event: Body, key: string): void {
    if (key.startsWith(this.electionPrefix)) this.hooks.push(JSON.stringify({ result: { header: this.#header(), events: [event] } }));
  }

  /** After a write: if another key now leads the election, that is a grant (its create revision the token). */
  #changed(): void {
    let first: [string, KeyValue] | null = null;
    for (const entry of this.#kvs) if (entry[0].startsWith(this.electionPrefix) && (first === null || entry[1].create < first[1].create)) first = entry;
    const leader = first === null ? null : `${first[0]}@${first[1].create}`;
    if (leader === this.#leader) return;
    this.#leader = leader;
    if (first !== null) this.hooks.granted(first[0].slice(this.electionPrefix.length), first[1].create);
  }
}
