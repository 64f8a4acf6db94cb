import { createActor, fromCallback, type EventObject } from 'xstate';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import type { RoleChangedEvent } from '../../machines/service.machine.ts';
import { roleMachine, roleOf, type OutboundMessage, type PeerInfo, type RoleInput, type RoleTransition, type SendEvent } from '../../machines/role.machine.ts';

/** Records the role transitions an election machine emits (what the services machine delivers). */
export function recordTransitions(actor: { on(type: 'ROLE.CHANGED', handler: (event: RoleChangedEvent) => void): unknown }, into: RoleTransition[]): void {
  actor.on('ROLE.CHANGED', (event) => into.push(event.transition));
}

export const timing = { electionWindowMs: 2000, heartbeatIntervalMs: 3000, heartbeatTimeoutMs: 9000 };

/** One role machine on a simulated clock, with a transport that records what it sends. */
/** A persistEpoch call the test answers itself (opts.holdPersist). */
export interface PendingPersist {
  epoch: number;
  done(): void;
  fail(reason: string): void;
}

export function startNode(input: Partial<RoleInput> & { nodeId: string }, opts: { holdSilence?: boolean; holdPersist?: boolean } = {}) {
  const clock = new ManualClock();
  const sent: OutboundMessage[] = [];
  const transitions: RoleTransition[] = [];
  let releaseSilence: (() => void) | null = null;
  const persists: PendingPersist[] = [];
  const machine = roleMachine.provide({
    actors: {
      persistEpoch: fromCallback<EventObject, { epoch: number }>(({ sendBack, input }) => {
        if (!opts.holdPersist) return sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch });
        persists.push({ epoch: input.epoch, done: () => sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch }), fail: (reason) => sendBack({ type: 'FAULT', reason }) });
      }),
      transport: fromCallback<SendEvent, { nodeId: string }>(({ receive }) => {
        receive((e) => sent.push(e.message));
      }),
      confirmSilence: fromCallback(({ sendBack }) => {
        if (opts.holdSilence) releaseSilence = () => sendBack({ type: 'SILENCE.CONFIRMED' });
        else sendBack({ type: 'SILENCE.CONFIRMED' });
        return () => {
          releaseSilence = null;
        };
      }),
    },
  });
  const actor = createActor(machine, { clock, input: { priority: 0, timing, ...input } });
  recordTransitions(actor, transitions);
  actor.start();
  return {
    actor,
    clock,
    sent,
    transitions,
    persists,
    role: () => roleOf(actor.getSnapshot().value, actor.getSnapshot().context),
    ctx: () => actor.getSnapshot().context,
    advance: (ms: number) => clock.advance(ms),
    up: () => actor.send({ type: 'TRANSPORT.UP' }),
    primary: (peer: Partial<PeerInfo> & { nodeId: string }) =>
      actor.send({ type: 'PEER.PRIMARY', peer: { priority: 0, role: 'primary', epoch: 1, ...peer } }),
    standby: (peer: Partial<PeerInfo> & { nodeId: string }) =>
      actor.send({ type: 'PEER.STANDBY', peer: { priority: 0, role: 'standby', epoch: 1, ...peer } }),
    announce: (peer: Partial<PeerInfo> & { nodeId: string }) =>
      actor.send({ type: 'PEER.ANNOUNCE', peer: { priority: 0, role: 'unknown', epoch: 0, ...peer } }),
    releaseSilence: () => releaseSilence?.(),
    sentOf: (type: OutboundMessage['type']) => sent.filter((m) => m.type === type),
  };
}
