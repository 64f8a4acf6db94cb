/**
 * The coordinators' pure cores on their own: plain-data calls out, replies in with the clock as
 * an argument, lease-machine events and the lease validity out. No server, no timer.
 */
import { describe, expect, it } from 'vitest';
import type { LeaseEvent } from '../../machines/lease.machine.ts';
import { EtcdCore, type EtcdCall, type EtcdHost, type EtcdTimer } from '../../src/backends/etcd-core.ts';
import type { CoreHost } from '../../src/backends/lease-core.ts';
import { LeaseValidity } from '../../src/backends/lease-keeping.ts';
import { RedisCore, type RedisCall } from '../../src/backends/redis-core.ts';
import { TransportStats } from '../../src/transport/stats.ts';

const RENEW_DEADLINE_MS = 600;

function recorder<Call>() {
  const events: LeaseEvent[] = [];
  const sent: { id: number; call: Call }[] = [];
  const timers: { timer: EtcdTimer; delayMs: number }[] = [];
  let watches = 0;
  const host: CoreHost<Call> & Omit<EtcdHost, keyof CoreHost<EtcdCall>> = {
    emit: (e) => void events.push(e),
    send: (id, call) => void sent.push({ id, call }),
    log: () => {},
    drop: () => {},
    failed: () => {},
    schedule: (timer, delayMs) => void timers.push({ timer, delayMs }),
    startWatch: () => void watches++,
  };
  /** The one call sent since the last look. */
  const take = () => {
    expect(sent).toHaveLength(1);
    return sent.shift()!;
  };
  return { host, events, sent, timers, take, watches: () => watches };
}

describe('the Redis core', () => {
  const setup = () => {
    const r = recorder<RedisCall>();
    const validity = new LeaseValidity(RENEW_DEADLINE_MS);
    const core = new RedisCore({ keyPrefix: 'p', nodeId: 'n1', incarnation: 'i1', ttlMs: 1000, where: 'test' }, r.host, new TransportStats(), validity);
    return { ...r, core, validity };
  };

  it('registers on connect, campaigns with the minimum token, and counts the lease from when the grant was sent', () => {
    const { core, take, events, validity } = setup();
    core.connected(100);
    const register = take();
    expect(register.call).toEqual({ script: 'REGISTER', keys: ['p:member:n1'], args: ['i1', 1000] });
    core.settle(register.id, { ok: true, value: [1, 'i1', 0] }, 104);
    expect(events).toEqual([{ type: 'COORDINATOR.UP' }]);

    core.command({ type: 'CAMPAIGN', minToken: 4 }, 200);
    const acquire = take();
    expect(acquire.call).toEqual({ script: 'ACQUIRE', keys: ['p:leader', 'p:token', 'p:leader-info', 'p:events'], args: ['n1', 1000, 4] });
    core.settle(acquire.id, { ok: true, value: [1, '5:n1'] }, 230);
    expect(events.at(-1)).toEqual({ type: 'LEASE.ACQUIRED', token: 5, rttMs: 30 });
    expect(validity.untilMs()).toBe(200 + RENEW_DEADLINE_MS);
  });

  it('reports a timed-out request as the coordinator down once, and up again at the next registration', () => {
    const { core, take, events, sent } = setup();
    core.connected(0);
    core.settle(take().id, { ok: true, value: [1, 'i1', 0] }, 1);
    core.command({ type: 'RENEW', token: 5 }, 10);
    core.settle(take().id, { ok: false, error: 'Command timed out' }, 160);
    expect(events.at(-1)).toEqual({ type: 'COORDINATOR.DOWN', reason: 'renew failed: Command timed out' });
    // Refused while unregistered: nothing is sent.
    core.command({ type: 'CAMPAIGN', minToken: 0 }, 170);
    core.heartbeat({ role: 'standby', epoch: 5 }, 300);
    expect(sent.map((s) => s.call.script)).toEqual(['REGISTER', 'HEARTBEAT']);
    const [register, heartbeat] = sent.splice(0);
    core.settle(heartbeat!.id, { ok: false, error: 'Command timed out' }, 450);
    core.settle(register!.id, { ok: true, value: [1, 'i1', 0] }, 460);
    expect(events.filter((e) => e.type === 'COORDINATOR.DOWN')).toHaveLength(1);
    expect(events.at(-1)).toEqual({ type: 'COORDINATOR.UP' });
  });

  it('reads a lost renewal: the lease expired, or who holds it now', () => {
    const { core, take, events } = setup();
    core.connected(0);
    core.settle(take().id, { ok: true, value: [1, 'i1', 0] }, 1);
    core.command({ type: 'RENEW', token: 5 }, 10);
    core.settle(take().id, { ok: true, value: [0, '6:n2'] }, 20);
    expect(events.slice(-2)).toEqual([
      { type: 'LEASE.LOST', token: 5, reason: 'held by n2 (token 6)' },
      { type: 'LEADER.OBSERVED', leaderId: 'n2', token: 6 },
    ]);
  });
});

describe('the etcd core', () => {
  it('probes, then campaigns in calls one at a time: grant, register, create its key, read the candidates; leads with its create revision', () => {
    const r = recorder<EtcdCall>();
    const core = new EtcdCore(
      { prefix: '/e', nodeId: 'n1', incarnation: 'i1', ttlMs: 1000, retryPeriodMs: 150, reconnectBaseMs: 100, reconnectMaxMs: 2000, where: 'test' },
      r.host as EtcdHost,
      new TransportStats(),
      new LeaseValidity(RENEW_DEADLINE_MS),
    );
    core.start(0);
    expect(r.timers).toEqual([{ timer: 'probe', delayMs: 0 }]);
    core.fire('probe', 0);
    core.settle(r.take().id, { ok: true, value: {} }, 2);
    expect(r.events).toEqual([{ type: 'COORDINATOR.UP' }]);
    expect(r.watches()).toBe(1);

    core.command({ type: 'CAMPAIGN', minToken: 0 }, 10);
    const paths: string[] = [];
    const answer = (value: unknown, nowMs: number) => {
      const { id, call } = r.take();
      paths.push(call.path);
      core.settle(id, { ok: true, value }, nowMs);
    };
    answer({ ID: '77', TTL: '1' }, 12);
    answer({ succeeded: true }, 14);
    answer({ succeeded: true }, 16);
    const kv = (id: string, rev: number, lease: string) => ({ key: Buffer.from(`/e/${id}`).toString('base64'), create_revision: String(rev), lease });
    answer({ kvs: [kv('n1', 9, '77'), kv('n2', 12, '78')] }, 20);
    expect(paths).toEqual(['/v3/lease/grant', '/v3/kv/txn', '/v3/kv/txn', '/v3/kv/range']);
    expect(r.events.at(-1)).toEqual({ type: 'LEASE.ACQUIRED', token: 9, rttMs: 10 });
  });
});
