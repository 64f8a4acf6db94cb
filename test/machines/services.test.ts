/** The services machine: one owner of the services, delivering the election's transitions. */
import { createActor, fromCallback } from 'xstate';
import { describe, expect, it } from 'vitest';
import { serviceMachine, type RoleTransition, type RunnerInput, type ServiceEvent } from '../../machines/service.machine.ts';
import { serviceChildId, servicesMachine } from '../../machines/services.machine.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { startNode } from './harness.ts';

const t = (from: RoleTransition['from'], to: RoleTransition['to'], epoch: number): RoleTransition => ({ from, to, epoch, nodeId: 'n1', primaryId: to === 'primary' ? 'n1' : null, reason: 'test' });

/** Services whose runners record what they hear; `failOn` makes the named service's runner fail on a transition to that role. */
function services(names: string[], failOn: Record<string, RoleTransition['to']> = {}) {
  const clock = new ManualClock();
  const heard: Record<string, RoleTransition[]> = Object.fromEntries(names.map((n) => [n, []]));
  const started: Record<string, (RoleTransition | null)[]> = Object.fromEntries(names.map((n) => [n, []]));
  const runService = fromCallback<ServiceEvent, RunnerInput>(({ input, receive, sendBack }) => {
    started[input.name]!.push(input.transition);
    receive((e) => {
      if (e.type !== 'ROLE.CHANGED') return;
      heard[input.name]!.push(e.transition);
      if (failOn[input.name] === e.transition.to) sendBack({ type: 'SERVICE.FAILED', message: 'boom' });
    });
  });
  const machine = servicesMachine.provide({ actors: { service: serviceMachine.provide({ actors: { runService } }) } });
  const actor = createActor(machine, { clock, input: { services: names.map((name) => ({ name, definition: null })) } });
  actor.start();
  return { actor, clock, heard, started };
}

describe('services machine', () => {
  it('spawns one supervisor per service and delivers every transition to each, in order', () => {
    const s = services(['a', 'b']);
    expect(Object.keys(s.actor.getSnapshot().children).sort()).toEqual([serviceChildId('a'), serviceChildId('b')]);
    const sequence = [t('unknown', 'electing', 0), t('electing', 'primary', 1), t('primary', 'standby', 1), t('standby', 'standby', 2)];
    for (const transition of sequence) s.actor.send({ type: 'ROLE.CHANGED', transition });
    expect(s.heard.a).toEqual(sequence);
    expect(s.heard.b).toEqual(sequence);
    expect(s.actor.getSnapshot().context).toMatchObject({ last: sequence.at(-1), delivered: 4 });
  });

  it('a failing service is restarted with the last transition, and the others are not disturbed', () => {
    const s = services(['good', 'bad'], { bad: 'primary' });
    s.actor.send({ type: 'ROLE.CHANGED', transition: t('unknown', 'electing', 0) });
    s.actor.send({ type: 'ROLE.CHANGED', transition: t('electing', 'primary', 1) });
    expect(s.started.bad).toEqual([null]);
    s.clock.advance(100); // the first restart delay
    expect(s.started.bad).toEqual([null, t('electing', 'primary', 1)]);
    expect(s.started.good).toEqual([null]);
    expect(s.heard.good).toHaveLength(2);
  });

  it('the election machines hold no services: they only emit the transitions', () => {
    const n = startNode({ nodeId: '10.0.0.1', priority: 1 });
    expect(n.ctx()).not.toHaveProperty('services');
    expect(n.ctx()).not.toHaveProperty('serviceIds');
    expect(Object.keys(n.actor.getSnapshot().children).filter((id) => id.startsWith('service'))).toEqual([]);
    n.up();
    n.advance(2000);
    n.releaseSilence();
    expect(n.transitions.map((x) => `${x.from}->${x.to}`)).toEqual(['unknown->electing', 'electing->primary']);
  });
});
