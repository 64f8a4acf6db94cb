/**
 * The machines wait for the durable epoch: a new epoch goes on the wire and to services only
 * after `persistEpoch` answered, a failed write is a fault (role unknown), a node starts at
 * its durable epoch, and the lease machine refuses a grant at or below the epoch it knows.
 */
import { createActor, fromCallback, type EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import { leaseMachine, type CoordinatorCommand } from '../../machines/lease.machine.ts';
import { roleOf, type RoleTransition } from '../../machines/role.machine.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { recordTransitions, startNode, timing, type PendingPersist } from './harness.ts';

describe('role machine and the durable epoch', () => {
  it('a node that won the election says and tells nothing at the new epoch until it is durable', () => {
    const n = startNode({ nodeId: 'a' }, { holdPersist: true });
    n.up();
    n.advance(timing.electionWindowMs);
    expect(n.persists.map((p) => p.epoch)).toEqual([1]);
    // Not primary yet: reported as the role it came from, nothing sent at epoch 1, services not told.
    expect(n.role()).toBe('electing');
    expect(n.sent.filter((m) => m.epoch === 1)).toEqual([]);
    expect(n.transitions.filter((t) => t.to === 'primary')).toEqual([]);
    n.persists[0]!.done();
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(1);
    expect(n.sentOf('declaration').at(-1)).toMatchObject({ role: 'primary', epoch: 1 });
    expect(n.transitions.at(-1)).toMatchObject({ from: 'electing', to: 'primary', epoch: 1 });
  });

  it('a failed write is a fault: role unknown with the reason, never primary', () => {
    const n = startNode({ nodeId: 'a' }, { holdPersist: true });
    n.up();
    n.advance(timing.electionWindowMs);
    n.persists[0]!.fail('epoch store: /state/epoch-a.json: ENOSPC');
    expect(n.role()).toBe('unknown');
    expect(n.ctx().reason).toContain('ENOSPC');
    expect(n.sent.filter((m) => m.role === 'primary')).toEqual([]);
    expect(n.transitions.map((t) => t.to)).toEqual(['electing', 'unknown']);
  });

  it('starts at the durable epoch: announces it and takes over above it', () => {
    const n = startNode({ nodeId: 'a', epoch: 3 });
    n.up();
    expect(n.sentOf('announce').at(-1)).toMatchObject({ epoch: 3 });
    n.advance(timing.electionWindowMs);
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(4);
  });

  it('a standby taking over after the timeout persists first', () => {
    const n = startNode({ nodeId: 'a' }, { holdPersist: true });
    n.up();
    n.primary({ nodeId: 'b', epoch: 5 });
    expect(n.role()).toBe('standby');
    n.advance(timing.heartbeatTimeoutMs);
    expect(n.persists.map((p) => p.epoch)).toEqual([6]);
    expect(n.role()).toBe('standby');
    expect(n.sent.filter((m) => m.epoch === 6)).toEqual([]);
    n.persists[0]!.done();
    expect(n.role()).toBe('primary');
    expect(n.transitions.at(-1)).toMatchObject({ from: 'standby', to: 'primary', epoch: 6 });
  });

  it('a primary re-asserting over a conflicting primary persists the higher epoch before sending or telling it', () => {
    const n = startNode({ nodeId: 'a', priority: 5 });
    n.up();
    n.advance(timing.electionWindowMs);
    expect(n.ctx().epoch).toBe(1);
    const held = startNode({ nodeId: 'a', priority: 5 }, { holdPersist: true });
    held.up();
    held.advance(timing.electionWindowMs);
    held.persists[0]!.done();
    const before = held.sent.length;
    held.primary({ nodeId: 'b', priority: 1, epoch: 4 });
    expect(held.persists.map((p) => p.epoch)).toEqual([1, 5]);
    expect(held.sent.slice(before).filter((m) => m.epoch === 5)).toEqual([]);
    expect(held.transitions.filter((t) => t.epoch === 5)).toEqual([]);
    held.persists[1]!.done();
    expect(held.ctx().epoch).toBe(5);
    expect(held.sent.at(-1)).toMatchObject({ type: 'heartbeat', role: 'primary', epoch: 5 });
    expect(held.transitions.at(-1)).toMatchObject({ from: 'primary', to: 'primary', epoch: 5 });
  });
});

describe('lease machine and the durable epoch', () => {
  function lease(epoch: number) {
    const clock = new ManualClock();
    const commands: CoordinatorCommand[] = [];
    const transitions: RoleTransition[] = [];
    const persists: PendingPersist[] = [];
    const machine = leaseMachine.provide({
      actors: {
        coordinator: fromCallback<CoordinatorCommand, { nodeId: string }>(({ receive }) => receive((c) => commands.push(c))),
        persistEpoch: fromCallback<EventObject, { epoch: number }>(({ sendBack, input }) => {
          persists.push({ epoch: input.epoch, done: () => sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch }), fail: (reason) => sendBack({ type: 'FAULT', reason }) });
        }),
      },
    });
    const actor = createActor(machine, { clock, input: { nodeId: 'n1', timing: { ttlMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 }, epoch } });
    recordTransitions(actor, transitions);
    actor.start();
    return { actor, clock, commands, transitions, persists, role: () => roleOf(actor.getSnapshot().value, actor.getSnapshot().context) };
  }

  it('campaigns for a token above its durable epoch and refuses a grant at or below it', () => {
    const n = lease(7);
    n.actor.send({ type: 'COORDINATOR.UP' });
    expect(n.commands.at(-1)).toEqual({ type: 'CAMPAIGN', minToken: 7 });
    n.actor.send({ type: 'LEASE.ACQUIRED', token: 7, rttMs: 1 });
    expect(n.role()).toBe('electing');
    expect(n.commands.at(-1)).toEqual({ type: 'RELEASE', token: 7 });
    expect(n.persists).toEqual([]);
    expect(n.actor.getSnapshot().context.reason).toMatch(/refused the lease: token 7 is not above epoch 7/);
    n.clock.advance(150);
    expect(n.commands.at(-1)).toEqual({ type: 'CAMPAIGN', minToken: 7 });
  });

  it('a grant above it is made durable before the node is primary; a failed write releases the lease', () => {
    const n = lease(7);
    n.actor.send({ type: 'COORDINATOR.UP' });
    n.actor.send({ type: 'LEASE.ACQUIRED', token: 8, rttMs: 1 });
    expect(n.persists.map((p) => p.epoch)).toEqual([8]);
    expect(n.role()).toBe('electing');
    expect(n.transitions.filter((t) => t.to === 'primary')).toEqual([]);
    n.persists[0]!.done();
    expect(n.role()).toBe('primary');
    expect(n.transitions.at(-1)).toMatchObject({ to: 'primary', epoch: 8 });

    const m = lease(7);
    m.actor.send({ type: 'COORDINATOR.UP' });
    m.actor.send({ type: 'LEASE.ACQUIRED', token: 9, rttMs: 1 });
    m.persists[0]!.fail('epoch store: disk full');
    expect(m.role()).toBe('unknown');
    expect(m.commands).toContainEqual({ type: 'RELEASE', token: 9 });
    expect(m.transitions.filter((t) => t.to === 'primary')).toEqual([]);
  });
});
