/**
 * The lease simulator's server models answer as the real servers do: the same calls the cores
 * make (scripts with their keys and arguments; etcd gateway paths with their JSON bodies) go to
 * a real redis-server / etcd and to the model, and the replies must match, up to what differs
 * between any two servers (clock readings, lease ids, cluster ids in headers).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, rangeEnd, type EtcdCall } from '../../src/backends/etcd-core.ts';
import type { RedisCall } from '../../src/backends/redis-core.ts';
import { REDIS_SCRIPTS } from '../../src/backends/redis-scripts.ts';
import { SimEtcdError, SimEtcdServer } from '../../src/testing/sim-etcd-server.ts';
import { SimRedisServer } from '../../src/testing/sim-redis-server.ts';
import { until } from '../until.ts';
import { EtcdServer, have, RedisServer } from './servers.ts';

describe.skipIf(!have('redis-server'))('the Redis model against redis-server', () => {
  let server: RedisServer;
  let client: Redis;
  let sub: Redis;
  beforeAll(async () => {
    server = await RedisServer.create();
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    sub = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    client.disconnect();
    sub.disconnect();
    await server.destroy();
  });

  it('gives the same replies and publishes the same messages for a run of every script', async () => {
    const k = { leader: 'm:leader', token: 'm:token', info: 'm:leader-info', workers: 'm:workers', events: 'm:events', member: 'm:member:n1' };
    const calls: RedisCall[] = [
      { script: 'REGISTER', keys: [k.member], args: ['inc-a', 60_000] },
      { script: 'REGISTER', keys: [k.member], args: ['inc-b', 60_000] },
      { script: 'ACQUIRE', keys: [k.leader, k.token, k.info, k.events], args: ['n1', 60_000, 0] },
      { script: 'ACQUIRE', keys: [k.leader, k.token, k.info, k.events], args: ['n2', 60_000, 0] },
      { script: 'RENEW', keys: [k.leader, k.info], args: ['1:n1', 60_000] },
      { script: 'RENEW', keys: [k.leader, k.info], args: ['2:n2', 60_000] },
      { script: 'RELEASE', keys: [k.leader, k.events], args: ['2:n2'] },
      { script: 'RELEASE', keys: [k.leader, k.events], args: ['1:n1'] },
      { script: 'RENEW', keys: [k.leader, k.info], args: ['1:n1', 60_000] },
      // A counter below the node's minimum token: the grant jumps above it.
      { script: 'ACQUIRE', keys: [k.leader, k.token, k.info, k.events], args: ['n2', 60_000, 7] },
      { script: 'HEARTBEAT', keys: [k.workers], args: ['n1', 'primary', 8, 60_000] },
      { script: 'HEARTBEAT', keys: [k.workers], args: ['n2', 'standby', 8, 60_000] },
      { script: 'UNREGISTER', keys: [k.member], args: ['inc-b'] },
      { script: 'UNREGISTER', keys: [k.member], args: ['inc-a'] },
    ];
    const published: string[] = [];
    await sub.subscribe(k.events);
    sub.on('message', (_channel: string, message: string) => published.push(message));
    const real: unknown[] = [];
    for (const c of calls) real.push(await client.eval(REDIS_SCRIPTS[c.script], c.keys.length, ...c.keys, ...c.args));

    const modelled: string[] = [];
    const model = new SimRedisServer({ push: (text) => modelled.push(text), granted: () => {} });
    const nowMs = Date.now();
    const replies = calls.map((c) => model.handle(c, nowMs));

    // Server clock readings differ between the two: a number stands for each.
    const clockless = (v: unknown): unknown => (Array.isArray(v) ? v.map(clockless) : typeof v === 'number' && v > 1_000 ? 'ms' : typeof v === 'string' ? v.replace(/ \d{6,}$/, ' <ms>') : v);
    expect(replies.map(clockless)).toEqual(real.map(clockless));
    expect(replies.slice(0, 10)).toEqual([[1, 'inc-a', 0], [0, 'inc-a', expect.any(Number)], [1, '1:n1'], [0, '1:n1'], [1, '1:n1'], [0, '1:n1'], 0, 1, [0, null], [1, '8:n2']]);
    await until('the three published messages', () => published.length >= 3, { context: () => published.join(', ') });
    expect(modelled).toEqual(published);
  });
});

describe.skipIf(!have('etcd'))('the etcd model against etcd', () => {
  let server: EtcdServer;
  beforeAll(async () => {
    server = await EtcdServer.create();
  });
  afterAll(() => server.destroy());

  /** The gateway's reply, or `{ error }` for a non-2xx answer, as the shell reports it. */
  async function post(call: EtcdCall): Promise<unknown> {
    const res = await fetch(`${server.url}${call.path}`, { method: 'POST', body: JSON.stringify(call.body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5_000) });
    return res.ok ? ((await res.json()) as unknown) : { error: res.status };
  }

  it('gives the same replies, revisions included, for the calls the etcd core makes', async () => {
    const prefix = '/m/';
    const key = (id: string) => b64(`${prefix}${id}`);
    const putIfAbsent = (id: string, lease: string | null): EtcdCall => ({
      path: '/v3/kv/txn',
      body: { compare: [{ target: 'CREATE', key: key(id), create_revision: '0' }], success: [{ request_put: { key: key(id), value: b64(id), lease } }], failure: [{ request_range: { key: key(id) } }] },
    });
    const range: EtcdCall = { path: '/v3/kv/range', body: { key: b64(prefix), range_end: rangeEnd(prefix), sort_order: 'ASCEND', sort_target: 'CREATE' } };
    // Lease ids differ between servers: `$n` in a call stands for the n-th id granted.
    const script: (EtcdCall | ((ids: string[]) => EtcdCall))[] = [
      { path: '/v3/lease/keepalive', body: { ID: '12345' } },
      { path: '/v3/lease/grant', body: { TTL: 30 } },
      { path: '/v3/lease/grant', body: { TTL: 30 } },
      (ids) => putIfAbsent('a', ids[0]!),
      (ids) => putIfAbsent('a', ids[0]!),
      (ids) => putIfAbsent('b', ids[1]!),
      () => putIfAbsent('c', '999'),
      range,
      (ids) => ({ path: '/v3/lease/keepalive', body: { ID: ids[0] } }),
      (ids) => ({ path: '/v3/kv/txn', body: { compare: [{ target: 'LEASE', key: key('a'), lease: ids[1] }], success: [{ request_delete_range: { key: key('a') } }], failure: [] } }),
      (ids) => ({ path: '/v3/kv/txn', body: { compare: [{ target: 'LEASE', key: key('a'), lease: ids[0] }], success: [{ request_delete_range: { key: key('a') } }], failure: [] } }),
      (ids) => putIfAbsent('a', ids[0]!),
      range,
      (ids) => ({ path: '/v3/lease/revoke', body: { ID: ids[1] } }),
      (ids) => ({ path: '/v3/lease/revoke', body: { ID: ids[1] } }),
      range,
      (ids) => ({ path: '/v3/lease/keepalive', body: { ID: ids[1] } }),
    ];
    const model = new SimEtcdServer({ push: () => {}, granted: () => {} }, prefix, () => {}, () => true);
    const run = async (send: (call: EtcdCall) => Promise<unknown>) => {
      const ids: string[] = [];
      const out: unknown[] = [];
      for (const step of script) {
        const reply = await send(typeof step === 'function' ? step(ids) : step);
        const id = (reply as { ID?: string }).ID;
        if (id !== undefined && (typeof step === 'object' ? step.path : '') === '/v3/lease/grant') ids.push(id);
        out.push(normalize(reply, ids));
      }
      return out;
    };
    const real = await run(post);
    const modelled = await run(async (call) => {
      try {
        return model.handle(call, 0);
      } catch (error) {
        if (error instanceof SimEtcdError) return { error: 404 };
        throw error;
      }
    });
    expect(modelled).toEqual(real);
  });
});

/** Headers keep only the revision; lease ids become their grant order (`$0`, `$1`). */
function normalize(v: unknown, ids: string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x, ids));
  if (typeof v === 'string') return ids.includes(v) ? `$${ids.indexOf(v)}` : v;
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === 'header' ? { revision: (x as { revision?: string }).revision } : normalize(x, ids);
  return out;
}
