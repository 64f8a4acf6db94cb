import { createActor, fromCallback } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { leaseMachine, type CoordinatorCommand, type LeaseEvent, type LeaseInput } from '../../machines/lease.machine.ts';
import { roleOf } from '../../machines/role.machine.ts';
import type { RoleTransition } from '../../machines/service.machine.ts';
import { recordTransitions } from './harness.ts';

const timing = { ttlMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 };

/** `hangingPersist`: the epoch write never completes, so a grant leaves the node in `claiming`. */
function start(input: Partial<LeaseInput> = {}, hangingPersist = false) {
  const clock = new ManualClock();
  const commands: CoordinatorCommand[] = [];
  const transitions: RoleTransition[] = [];
  const machine = leaseMachine.provide({
    actors: {
      coordinator: fromCallback<CoordinatorCommand, { nodeId: string }>(({ receive }) => receive((c) => commands.push(c))),
      ...(hangingPersist ? { persistEpoch: fromCallback(() => {}) } : {}),
    },
  });
  const actor = createActor(machine, { clock, input: { nodeId: 'n1', timing, ...input } });
  recordTransitions(actor, transitions);
  actor.start();
  const send = (e: LeaseEvent) => actor.send(e);
  return {
    actor,
    clock,
    commands,
    transitions,
    send,
    role: () => roleOf(actor.getSnapshot().value),
    ctx: () => actor.getSnapshot().context,
    count: (type: CoordinatorCommand['type']) => commands.filter((c) => c.type === type).length,
    primaryAt: (token: number, rttMs = 0) => {
      send({ type: 'COORDINATOR.UP' });
      send({ type: 'LEASE.ACQUIRED', token, rttMs });
    },
  };
}

describe('lease machine', () => {
  it('waits for the coordinator, then campaigns every retry period, carrying the highest epoch it knows', () => {
    const n = start();
    expect(n.role()).toBe('unknown');
    expect(n.commands).toEqual([]);
    n.send({ type: 'COORDINATOR.UP' });
    expect(n.role()).toBe('electing');
    expect(n.commands).toEqual([{ type: 'CAMPAIGN', minToken: 0 }]);
    n.clock.advance(150);
    n.clock.advance(150);
    expect(n.count('CAMPAIGN')).toBe(3);
  });

  it('a grant makes it primary with the token as epoch; services hear it; it renews every period', () => {
    const n = start();
    n.primaryAt(7);
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(7);
    expect(n.transitions.at(-1)).toMatchObject({ to: 'primary', epoch: 7, primaryId: 'n1' });
    n.clock.advance(150);
    expect(n.commands.at(-1)).toEqual({ type: 'RENEW', token: 7 });
  });

  it('steps down at the renew deadline counted from when the grant was sent (deadline - round trip), and releases', () => {
    const n = start();
    n.primaryAt(3, 100);
    n.clock.advance(499);
    expect(n.role()).toBe('primary');
    n.clock.advance(1);
    expect(n.role()).toBe('electing');
    expect(n.ctx().reason).toMatch(/renew deadline/);
    expect(n.commands).toContainEqual({ type: 'RELEASE', token: 3 });
    expect(n.transitions.at(-1)).toMatchObject({ from: 'primary', to: 'electing' });
  });

  it('a renewal of our token pushes the deadline back; one of another token does not; the coordinator going down does not help', () => {
    const n = start();
    n.primaryAt(3);
    n.clock.advance(500);
    n.send({ type: 'LEASE.RENEWED', token: 3, rttMs: 20 });
    n.clock.advance(579);
    expect(n.role()).toBe('primary');
    n.send({ type: 'LEASE.RENEWED', token: 2, rttMs: 0 });
    n.send({ type: 'COORDINATOR.DOWN', reason: 'connection closed' });
    n.clock.advance(1);
    expect(n.role()).toBe('electing');
  });

  it('a lost lease (our token) ends primary at once; a late loss of an older token is ignored', () => {
    const n = start();
    n.primaryAt(5);
    n.send({ type: 'LEASE.LOST', token: 4, reason: 'old' });
    expect(n.role()).toBe('primary');
    n.send({ type: 'LEASE.LOST', token: 5, reason: 'the lease expired' });
    expect(n.role()).toBe('electing');
    expect(n.ctx().reason).toBe('lost the lease: the lease expired');
  });

  it('follows another leader as standby, keeps campaigning every period, and campaigns at once when the leader is gone', () => {
    const n = start();
    n.send({ type: 'COORDINATOR.UP' });
    n.send({ type: 'LEADER.OBSERVED', leaderId: 'n2', token: 9 });
    expect(n.role()).toBe('standby');
    expect(n.ctx()).toMatchObject({ primaryId: 'n2', epoch: 9 });
    expect(n.transitions.at(-1)).toMatchObject({ to: 'standby', primaryId: 'n2', epoch: 9 });
    const before = n.count('CAMPAIGN');
    n.clock.advance(150);
    expect(n.count('CAMPAIGN')).toBe(before + 1);
    n.send({ type: 'LEADER.OBSERVED', leaderId: null, token: 9 });
    expect(n.count('CAMPAIGN')).toBe(before + 2);
    expect(n.commands.at(-1)).toEqual({ type: 'CAMPAIGN', minToken: 9 });
    n.send({ type: 'LEASE.ACQUIRED', token: 10, rttMs: 1 });
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(10);
  });

  it('a primary that sees a newer leader (higher token) steps down to standby', () => {
    const n = start();
    n.primaryAt(5);
    n.send({ type: 'LEADER.OBSERVED', leaderId: 'n2', token: 5 });
    expect(n.role()).toBe('primary');
    n.send({ type: 'LEADER.OBSERVED', leaderId: 'n2', token: 6 });
    expect(n.role()).toBe('standby');
    expect(n.ctx().primaryId).toBe('n2');
  });

  it('RESIGN releases the lease and does not campaign again for one TTL', () => {
    const n = start();
    n.primaryAt(2);
    n.send({ type: 'RESIGN' });
    expect(n.role()).toBe('standby');
    expect(n.commands.at(-1)).toEqual({ type: 'RELEASE', token: 2 });
    const campaigns = n.count('CAMPAIGN');
    n.send({ type: 'LEADER.OBSERVED', leaderId: null, token: 2 });
    n.clock.advance(999);
    expect(n.count('CAMPAIGN')).toBe(campaigns);
    n.clock.advance(1 + 150);
    expect(n.count('CAMPAIGN')).toBe(campaigns + 1);
  });

  it('mode standby never campaigns and never takes a grant', () => {
    const n = start({ mode: 'standby' });
    n.send({ type: 'COORDINATOR.UP' });
    expect(n.role()).toBe('standby');
    n.send({ type: 'LEADER.OBSERVED', leaderId: null, token: 0 });
    n.clock.advance(5_000);
    n.send({ type: 'LEASE.ACQUIRED', token: 1, rttMs: 0 });
    expect(n.role()).toBe('standby');
    expect(n.count('CAMPAIGN')).toBe(0);
  });
});

describe('lease machine: losing the coordinator is a fault', () => {
  const down = { type: 'COORDINATOR.DOWN', reason: 'connection closed' } as const;

  it('a primary steps down at its renew deadline, then is in fault once the coordinator has been down for the renew deadline', () => {
    const n = start();
    n.primaryAt(4);
    n.clock.advance(100);
    n.send(down);
    n.clock.advance(499);
    expect(n.role()).toBe('primary');
    n.clock.advance(1); // 600 ms after the grant: the renew deadline, as without the fault
    expect(n.role()).toBe('electing');
    n.clock.advance(99);
    expect(n.role()).toBe('electing');
    n.clock.advance(1); // 600 ms after DOWN
    expect(n.role()).toBe('unknown');
    expect(n.ctx().reason).toBe('coordinator lost: unreachable for 600 ms (the renew deadline): connection closed');
    expect(n.transitions.at(-1)).toMatchObject({ from: 'electing', to: 'unknown', epoch: 4 });
  });

  it('a standby that cannot reach the coordinator is in fault too; UP makes it campaign again above the epoch it knows', () => {
    const n = start();
    n.send({ type: 'COORDINATOR.UP' });
    n.send({ type: 'LEADER.OBSERVED', leaderId: 'n2', token: 9 });
    expect(n.role()).toBe('standby');
    n.send(down);
    n.clock.advance(599);
    expect(n.role()).toBe('standby');
    n.clock.advance(1);
    expect(n.role()).toBe('unknown');
    expect(n.ctx().primaryId).toBeNull();
    expect(n.transitions.at(-1)).toMatchObject({ from: 'standby', to: 'unknown' });
    // Nothing is sent while in fault.
    const sent = n.commands.length;
    n.clock.advance(5_000);
    expect(n.commands.length).toBe(sent);
    n.send({ type: 'COORDINATOR.UP' });
    expect(n.role()).toBe('electing');
    expect(n.commands.at(-1)).toEqual({ type: 'CAMPAIGN', minToken: 9 });
  });

  it('a coordinator back within the bound is no fault; the bound starts at the first DOWN, not the last', () => {
    const n = start();
    n.send({ type: 'COORDINATOR.UP' });
    n.send({ type: 'LEADER.OBSERVED', leaderId: 'n2', token: 2 });
    n.send(down);
    n.clock.advance(599);
    n.send({ type: 'COORDINATOR.UP' });
    n.clock.advance(5_000);
    expect(n.role()).toBe('standby');
    n.send(down);
    n.clock.advance(300);
    n.send({ type: 'COORDINATOR.DOWN', reason: 'renew failed: timeout' });
    n.clock.advance(300);
    expect(n.role()).toBe('unknown');
    expect(n.ctx().reason).toMatch(/renew failed: timeout$/);
  });

  it('a fault while claiming gives the claim back, so services never see the lease as valid', () => {
    const n = start({}, true);
    n.send({ type: 'COORDINATOR.UP' });
    n.send(down);
    n.clock.advance(300);
    // A grant answered just before the connection went; its renew deadline would end it at 900 ms.
    n.send({ type: 'LEASE.ACQUIRED', token: 6, rttMs: 0 });
    expect(n.ctx().claimEpoch).toBe(6);
    expect(n.commands.filter((c) => c.type === 'RELEASE')).toEqual([]);
    n.clock.advance(300);
    expect(n.role()).toBe('unknown');
    expect(n.commands).toContainEqual({ type: 'RELEASE', token: 6 });
    expect(n.transitions.map((t) => t.to)).not.toContain('primary');
  });

  it('mode standby: in fault while down, back to standby (not electing) when the coordinator returns', () => {
    const n = start({ mode: 'standby' });
    n.send({ type: 'COORDINATOR.UP' });
    expect(n.role()).toBe('standby');
    n.send(down);
    n.clock.advance(600);
    expect(n.role()).toBe('unknown');
    n.send({ type: 'COORDINATOR.UP' });
    expect(n.role()).toBe('standby');
    expect(n.count('CAMPAIGN')).toBe(0);
  });
  it('a duplicate node id holds unknown.conflict whatever else is reported, until the coordinator says the id is ours', () => {
    const n = start();
    n.primaryAt(3);
    n.send({ type: 'IDENTITY.CONFLICT', from: 'redis (incarnation x)' });
    const paths = () => JSON.stringify(n.actor.getSnapshot().value);
    expect(n.role()).toBe('unknown');
    expect(paths()).toBe(JSON.stringify({ unknown: 'conflict' }));
    // A later reason (the coordinator reported down) does not hide the conflict.
    n.send({ type: 'COORDINATOR.DOWN', reason: 'timeout' });
    expect(n.ctx().reason).toContain('coordinator unreachable');
    expect(paths()).toBe(JSON.stringify({ unknown: 'conflict' }));
    n.send({ type: 'COORDINATOR.UP' });
    expect(n.role()).toBe('electing');
  });
});
