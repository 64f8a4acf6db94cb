import { createActor, fromCallback } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { leaseMachine, type CoordinatorCommand, type LeaseEvent, type LeaseInput } from '../../machines/lease.machine.ts';
import { roleOf } from '../../machines/role.machine.ts';
import type { RoleTransition } from '../../machines/service.machine.ts';
import { recordingService } from './harness.ts';

const timing = { ttlMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 };

function start(input: Partial<LeaseInput> = {}) {
  const clock = new ManualClock();
  const commands: CoordinatorCommand[] = [];
  const transitions: RoleTransition[] = [];
  const machine = leaseMachine.provide({
    actors: {
      coordinator: fromCallback<CoordinatorCommand, { nodeId: string }>(({ receive }) => receive((c) => commands.push(c))),
      service: recordingService(transitions),
    },
  });
  const actor = createActor(machine, { clock, input: { nodeId: 'n1', timing, services: [{ name: 'rec', definition: null }], ...input } });
  actor.start();
  const send = (e: LeaseEvent) => actor.send(e);
  return {
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
