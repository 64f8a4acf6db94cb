/**
 * An in-memory model of what the Redis coordinator's scripts (src/backends/redis-scripts.ts) do
 * to the server's keys, for the lease simulator: strings with a PX expiry on the server's
 * clock, hashes, INCR, PUBLISH. Each script is one atomic step, as EVAL is. Replies have the
 * shapes ioredis hands back (Lua tables as arrays, Lua false as null, integers as numbers), so
 * the real Redis core (redis-core.ts) reads them.
 */
import type { RedisCall } from '../backends/redis-core.ts';
import { internalBug } from '../assert.ts';

export interface SimServerHooks {
  /** A message published (Redis) or a watch line (etcd) for every subscriber. */
  push(text: string): void;
  /** The server issued a lease to `nodeId` with fencing token `token`. */
  granted(nodeId: string, token: number): void;
}

interface StringEntry {
  value: string;
  /** Server ms; null = no expiry. */
  expiresAtMs: number | null;
}

export class SimRedisServer {
  #strings = new Map<string, StringEntry>();
  #hashes = new Map<string, Map<string, string>>();
  #nowMs = 0;

  constructor(readonly hooks: SimServerHooks) {}

  /** A restart without persistence: every key (the lease, the token counter, registrations) is gone. */
  lose(): void {
    this.#strings.clear();
    this.#hashes.clear();
  }

  /**
   * Back from a pause, or restarted with persistence: either way keys expire on the server's
   * clock, which ran on meanwhile. Nothing to do.
   */
  resume(_nowMs: number, _restarted: boolean): void {}

  /** Runs one script atomically at server time `nowMs` (a whole ms, as TIME gives). */
  handle(call: RedisCall, nowMs: number): unknown {
    this.#nowMs = Math.floor(nowMs);
    const k = call.keys;
    const a = call.args.map(String);
    switch (call.script) {
      case 'ACQUIRE': {
        const holder = this.#get(k[0]!);
        if (holder !== null) return [0, holder];
        let token = this.#incr(k[1]!);
        if (token <= Number(a[2])) {
          token = Number(a[2]) + 1;
          this.#set(k[1]!, String(token), null);
        }
        const value = `${token}:${a[0]}`;
        this.#set(k[0]!, value, this.#nowMs + Number(a[1]));
        this.#hset(k[2]!, { nodeId: a[0]!, token: String(token), acquiredAtMs: String(this.#nowMs) });
        this.hooks.granted(a[0]!, token);
        this.hooks.push(`acquired ${value}`);
        return [1, value];
      }
      case 'RENEW': {
        const holder = this.#get(k[0]!);
        if (holder === a[0]) {
          this.#strings.get(k[0]!)!.expiresAtMs = this.#nowMs + Number(a[1]);
          this.#hset(k[1]!, { renewedAtMs: String(this.#nowMs) });
          return [1, holder];
        }
        return [0, holder];
      }
      case 'RELEASE':
        if (this.#get(k[0]!) !== a[0]) return 0;
        this.#strings.delete(k[0]!);
        this.hooks.push(`released ${a[0]}`);
        return 1;
      case 'HEARTBEAT': {
        this.#hset(k[0]!, { [a[0]!]: `${a[1]} ${a[2]} ${this.#nowMs}` });
        const out: (string | number)[] = [this.#nowMs];
        const workers = this.#hashes.get(k[0]!)!;
        for (const [field, value] of [...workers]) {
          const seen = Number(/(\d+)$/.exec(value)?.[1]);
          if (!Number.isFinite(seen) || this.#nowMs - seen > Number(a[3])) workers.delete(field);
          else out.push(field, value);
        }
        return out;
      }
      case 'REGISTER': {
        const v = this.#get(k[0]!);
        if (v === null || v === a[0]) {
          this.#set(k[0]!, a[0]!, this.#nowMs + Number(a[1]));
          return [1, a[0], 0];
        }
        const e = this.#strings.get(k[0]!)!;
        return [0, v, e.expiresAtMs === null ? -1 : e.expiresAtMs - this.#nowMs];
      }
      case 'UNREGISTER':
        if (this.#get(k[0]!) !== a[0]) return 0;
        this.#strings.delete(k[0]!);
        return 1;
      default:
        throw internalBug(`the Redis model has no script ${String(call.script)}`);
    }
  }

  /** GET, with the key's expiry applied (Redis expires a key on access once its time passed). */
  #get(key: string): string | null {
    const e = this.#strings.get(key);
    if (e === undefined) return null;
    if (e.expiresAtMs !== null && e.expiresAtMs <= this.#nowMs) {
      this.#strings.delete(key);
      return null;
    }
    return e.value;
  }

  #set(key: string, value: string, expiresAtMs: number | null): void {
    this.#strings.set(key, { value, expiresAtMs });
  }

  #incr(key: string): number {
    const n = Number(this.#get(key) ?? '0') + 1;
    // INCR keeps the key's expiry; the token counter has none.
    this.#set(key, String(n), this.#strings.get(key)?.expiresAtMs ?? null);
    return n;
  }

  #hset(key: string, fields: Record<string, string>): void {
    const h = this.#hashes.get(key) ?? new Map<string, string>();
    this.#hashes.set(key, h);
    for (const [f, v] of Object.entries(fields)) h.set(f, v);
  }
}
