/**
 * The guards, actions, actors and delays of the lease machine. The states and transitions that
 * use them are in lease.machine.ts.
 */
import { assertEvent, assign, cancel, enqueueActions, fromCallback, sendTo, setup, type EventObject } from 'xstate';
import type { Role, RoleChangedEvent, RoleTransition } from './service.machine.ts';
import type { RoleTag } from './role-tags.ts';
import type { CoordinatorCommand, LeaseContext, LeaseEvent, LeaseInput } from './lease-types.ts';

function transitionOf(context: LeaseContext, to: Role): RoleTransition {
  return { from: context.role, to, epoch: context.epoch, nodeId: context.nodeId, primaryId: context.primaryId, reason: context.reason };
}

/** Id of the delayed COORDINATOR.LOST, so that COORDINATOR.UP can cancel it. */
const COORDINATOR_LOSS = 'coordinatorLoss';

export const leaseSetup = setup({
  types: {
    context: {} as LeaseContext,
    events: {} as LeaseEvent,
    input: {} as LeaseInput,
    tags: {} as RoleTag,
    emitted: {} as RoleChangedEvent,
  },
  actors: {
    // Stand-in so the machine runs as it is in the visualizer; src/backends supplies the real one.
    coordinator: fromCallback<CoordinatorCommand, { nodeId: string }>(() => () => {}),
    /** As in role.machine.ts: makes `input.epoch` durable, then EPOCH.PERSISTED (or FAULT). */
    persistEpoch: fromCallback<EventObject, { epoch: number }>(({ sendBack, input }) => {
      sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch });
    }),
  },
  guards: {
    isNeverLeader: ({ context }) => context.mode === 'standby',
    isOtherLeader: ({ context, event }) => {
      assertEvent(event, 'LEADER.OBSERVED');
      return event.leaderId !== null && event.leaderId !== context.nodeId;
    },
    isNoLeader: ({ event }) => {
      assertEvent(event, 'LEADER.OBSERVED');
      return event.leaderId === null;
    },
    isOurToken: ({ context, event }) => {
      assertEvent(event, ['LEASE.LOST', 'LEASE.RENEWED']);
      return event.token === context.epoch;
    },
    isClaimToken: ({ context, event }) => {
      assertEvent(event, 'LEASE.LOST');
      return event.token === context.claimEpoch;
    },
    /**
     * A grant whose token is not above an epoch we already hold or saw: the coordinator lost its
     * counter and our minToken did not reach it. Using it would send the epoch back.
     */
    isStaleGrant: ({ context, event }) => {
      assertEvent(event, 'LEASE.ACQUIRED');
      return event.token <= context.epoch;
    },
    isNewerLeader: ({ context, event }) => {
      assertEvent(event, 'LEADER.OBSERVED');
      return event.leaderId !== null && event.leaderId !== context.nodeId && event.token > context.epoch;
    },
    hasResigned: ({ context }) => context.resigned,
    isCoordinatorUp: ({ context }) => context.coordinatorUp,
  },
  actions: {
    enterRole: enqueueActions(({ context, enqueue }, params: { role: Role }) => {
      if (context.role === params.role) return;
      enqueue.assign({ role: params.role, roleChanges: context.roleChanges + 1 });
      const transition = transitionOf(context, params.role);
      enqueue.emit({ type: 'ROLE.CHANGED', transition });
    }),
    noteCoordinatorUp: assign({ coordinatorUp: true }),
    noteConflict: assign(({ context, event }) => {
      assertEvent(event, 'IDENTITY.CONFLICT');
      return { coordinatorUp: false, primaryId: null, reason: `duplicate node id: another process at ${event.from} uses node id ${context.nodeId}` };
    }),
    noteCoordinatorDown: assign(({ event }) => {
      assertEvent(event, 'COORDINATOR.DOWN');
      return { coordinatorUp: false, coordinatorDownReason: event.reason, reason: `coordinator unreachable: ${event.reason}` };
    }),
    /**
     * Starts the loss bound at the first DOWN only: repeated DOWNs while it is down must not
     * push the fault back. Runs before noteCoordinatorDown, while coordinatorUp is still the old value.
     */
    armCoordinatorLoss: enqueueActions(({ context, enqueue }) => {
      if (context.coordinatorUp) enqueue.raise({ type: 'COORDINATOR.LOST' }, { id: COORDINATOR_LOSS, delay: 'coordinatorLoss' });
    }),
    disarmCoordinatorLoss: cancel(COORDINATOR_LOSS),
    noteCoordinatorLost: assign(({ context }) => ({
      primaryId: null,
      reason: `coordinator lost: unreachable for ${context.timing.renewDeadlineMs} ms (the renew deadline): ${context.coordinatorDownReason}`,
    })),
    /** The token is ours but not yet used: it becomes the epoch once durable (`takeLease`). */
    claimLease: assign(({ event }) => {
      assertEvent(event, 'LEASE.ACQUIRED');
      return { claimEpoch: event.token, lastRttMs: event.rttMs };
    }),
    takeLease: assign(({ context }) => ({
      epoch: Math.max(context.epoch, context.claimEpoch),
      primaryId: context.nodeId,
      resigned: false,
      reason: `acquired the lease (token ${context.claimEpoch})`,
    })),
    noteStaleGrant: assign(({ context, event }) => {
      assertEvent(event, 'LEASE.ACQUIRED');
      return {
        reason: `refused the lease: token ${event.token} is not above epoch ${context.epoch} (the coordinator lost its counter?); campaigning again`,
      };
    }),
    releaseGrant: sendTo('coordinator', ({ event }): CoordinatorCommand => {
      assertEvent(event, 'LEASE.ACQUIRED');
      return { type: 'RELEASE', token: event.token };
    }),
    releaseClaim: sendTo('coordinator', ({ context }): CoordinatorCommand => ({ type: 'RELEASE', token: context.claimEpoch })),
    noteFault: assign(({ event }) => {
      assertEvent(event, 'FAULT');
      return { primaryId: null, reason: event.reason };
    }),
    noteRenewal: assign(({ event }) => {
      assertEvent(event, 'LEASE.RENEWED');
      return { lastRttMs: event.rttMs };
    }),
    /** Services hear a new leader or term as standby -> standby, as with role.machine.ts. */
    followLeader: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'LEADER.OBSERVED');
      if (event.leaderId === null) return;
      const epoch = Math.max(context.epoch, event.token);
      if (event.leaderId === context.primaryId && epoch === context.epoch) return;
      const next = { ...context, primaryId: event.leaderId, epoch, reason: `lease held by ${event.leaderId} (token ${event.token})` };
      enqueue.assign({ primaryId: next.primaryId, epoch: next.epoch, reason: next.reason });
      if (context.role !== 'standby') return;
      enqueue.emit({ type: 'ROLE.CHANGED', transition: transitionOf(next, 'standby') });
    }),
    forgetLeader: assign({ primaryId: null }),
    noteStepDown: assign((_, params: { reason: string }) => ({ primaryId: null, reason: params.reason })),
    noteLost: assign(({ event }) => ({ primaryId: null, reason: event.type === 'LEASE.LOST' ? `lost the lease: ${event.reason}` : 'lost the lease' })),
    noteResigned: assign({ primaryId: null, resigned: true, reason: 'resigned: released the lease' }),
    clearResigned: assign({ resigned: false }),
    sendCampaign: sendTo('coordinator', ({ context }): CoordinatorCommand => ({ type: 'CAMPAIGN', minToken: context.epoch })),
    sendRenew: sendTo('coordinator', ({ context }): CoordinatorCommand => ({ type: 'RENEW', token: context.epoch })),
    sendRelease: sendTo('coordinator', ({ context }): CoordinatorCommand => ({ type: 'RELEASE', token: context.epoch })),
  },
  delays: {
    retryPeriod: ({ context }) => context.timing.retryPeriodMs,
    leaseTtl: ({ context }) => context.timing.ttlMs,
    // Counted from when the last successful request was sent, not from when its reply arrived.
    renewDeadline: ({ context }) => Math.max(0, context.timing.renewDeadlineMs - context.lastRttMs),
    // As long as a primary may go without a renewal: a coordinator away longer is a fault.
    coordinatorLoss: ({ context }) => context.timing.renewDeadlineMs,
  },
});
