import { createActor, fromCallback } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { leaseMachine } from '../../machines/lease.machine.ts';
import { roleMachine, roleOf, roleOfSnapshot, type RoleInput, type RoleTag } from '../../machines/role.machine.ts';

const timing = { electionWindowMs: 300, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 300 };
const ROLE_TAGS: RoleTag[] = ['primary', 'standby', 'electing', 'unknown', 'claiming'];

/** Every top-level state carries exactly one role tag, and nested states inherit it. */
function tagsOfTopStates(machine: typeof roleMachine | typeof leaseMachine): Record<string, string[]> {
  return Object.fromEntries(Object.entries(machine.root.states).map(([key, node]) => [key, [...node.tags]]));
}

/** A role machine whose epoch write never completes, so a won election stays in `claiming`. */
function startRole(input: Partial<RoleInput>) {
  const clock = new ManualClock();
  const machine = roleMachine.provide({ actors: { persistEpoch: fromCallback(() => {}) } });
  const actor = createActor(machine, { clock, input: { nodeId: 'n1', priority: 100, timing, ...input } });
  const seen: string[] = [];
  actor.subscribe((s) => {
    // The tag-based reading must agree with the value-based one at every step.
    expect(roleOfSnapshot(s)).toBe(roleOf(s.value, s.context));
    seen.push(roleOfSnapshot(s));
  });
  actor.start();
  return { actor, clock, seen };
}

describe('role tags', () => {
  it('tag each top-level state of both machines with the role it stands for', () => {
    const expected = { unknown: ['unknown'], electing: ['electing'], claiming: ['claiming'], primary: ['primary'], standby: ['standby'] };
    expect(tagsOfTopStates(roleMachine)).toEqual(expected);
    expect(tagsOfTopStates(leaseMachine)).toEqual(expected);
  });

  it('read a nested state (standby is parallel) by its ancestor tag', () => {
    const { actor } = startRole({ mode: 'standby' });
    actor.send({ type: 'TRANSPORT.UP' });
    const s = actor.getSnapshot();
    expect(typeof s.value).toBe('object');
    expect(s.hasTag('standby')).toBe(true);
    expect(roleOfSnapshot(s)).toBe('standby');
  });

  it('report the role a claiming node came from: unknown for a forced primary, electing for an election winner', () => {
    const forced = startRole({ mode: 'primary' });
    forced.actor.send({ type: 'TRANSPORT.UP' });
    expect(forced.actor.getSnapshot().hasTag('claiming')).toBe(true);
    expect(roleOfSnapshot(forced.actor.getSnapshot())).toBe('unknown');
    forced.actor.send({ type: 'EPOCH.PERSISTED', epoch: forced.actor.getSnapshot().context.claimEpoch });
    expect(roleOfSnapshot(forced.actor.getSnapshot())).toBe('primary');

    const elected = startRole({});
    elected.actor.send({ type: 'TRANSPORT.UP' });
    expect(roleOfSnapshot(elected.actor.getSnapshot())).toBe('electing');
    elected.clock.advance(timing.electionWindowMs);
    expect(elected.actor.getSnapshot().hasTag('claiming')).toBe(true);
    expect(roleOfSnapshot(elected.actor.getSnapshot())).toBe('electing');
    expect(elected.seen).toContain('unknown');
  });

  it('read the lease machine the same way, including while claiming', () => {
    const machine = leaseMachine.provide({ actors: { persistEpoch: fromCallback(() => {}) } });
    const actor = createActor(machine, { clock: new ManualClock(), input: { nodeId: 'n1', timing: { ttlMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 } } });
    actor.start();
    expect(roleOfSnapshot(actor.getSnapshot())).toBe('unknown');
    actor.send({ type: 'COORDINATOR.UP' });
    expect(roleOfSnapshot(actor.getSnapshot())).toBe('electing');
    actor.send({ type: 'LEASE.ACQUIRED', token: 4, rttMs: 0 });
    expect(actor.getSnapshot().hasTag('claiming')).toBe(true);
    expect(roleOfSnapshot(actor.getSnapshot())).toBe('electing');
    actor.send({ type: 'EPOCH.PERSISTED', epoch: 4 });
    expect(roleOfSnapshot(actor.getSnapshot())).toBe('primary');
  });

  it('refuse a snapshot in no role-tagged state instead of guessing a role', () => {
    expect(() => roleOfSnapshot({ hasTag: () => false, context: { role: 'primary' } })).toThrow(/no state tagged with a role/);
    expect(ROLE_TAGS.every((t) => roleOfSnapshot({ hasTag: (x) => x === t, context: { role: 'standby' } }) === (t === 'claiming' ? 'standby' : t))).toBe(true);
  });
});

describe('state descriptions', () => {
  it('document every state of both election machines (the Stately editor shows them)', () => {
    const undocumented: string[] = [];
    const walk = (node: { id: string; description?: string; states: Record<string, unknown> }) => {
      if (node.description === undefined || node.description.trim() === '') undocumented.push(node.id);
      for (const child of Object.values(node.states)) walk(child as typeof node);
    };
    for (const machine of [roleMachine, leaseMachine]) for (const child of Object.values(machine.root.states)) walk(child);
    expect(undocumented).toEqual([]);
  });
});
