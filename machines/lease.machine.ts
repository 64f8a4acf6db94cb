/**
 * The node role statechart under a coordinator (Redis, etcd): unknown -> electing -> primary |
 * standby, where the primary role is a lease held in the coordinator rather than an outcome of
 * heartbeats between peers. Used by the `redis` and `etcd` backends; `multicast` uses
 * role.machine.ts. Services see the same roles and transitions from either machine.
 *
 * Pure, like role.machine.ts: coordinator replies and the passing of time go in; commands for
 * the coordinator (CAMPAIGN, RENEW, RELEASE) and role transitions for services come out. The
 * `coordinator` actor (src/backends) does the I/O and bounds every request it makes.
 *
 * What it guarantees, given the coordinator grants a lease to at most one holder at a time:
 *  - a node is primary only after the coordinator granted it the lease, and its epoch is the
 *    lease's fencing token (strictly increasing across grants, issued by the coordinator);
 *  - that token is above the epoch the node made durable in earlier runs (a lower grant, from a
 *    coordinator that lost its counter, is refused) and is itself durable (`persistEpoch`)
 *    before services hear of it;
 *  - a primary that has not renewed successfully within `renewDeadlineMs`, counted from when
 *    its last successful renewal was sent, steps down on its own clock. With
 *    `renewDeadlineMs < ttlMs` it does so before the lease can expire and be granted to
 *    another node, provided the two clocks' rates differ by less than the margin;
 *  - a lost coordinator is never a reason to stay primary: renewals fail and the deadline fires.
 *  - a coordinator reported down (COORDINATOR.DOWN) and not back up (COORDINATOR.UP) within
 *    `renewDeadlineMs` is lost: a fault, like a lost socket under multicast. Whatever the role
 *    (a standby could not take over either), the node goes to `unknown` until the coordinator is
 *    back, then campaigns again on its own.
 * What it does not guarantee: a process paused between two of its own steps (GC, SIGSTOP) can
 * act once more after the lease expired before its timers run. Services that write to shared
 * state must pass the epoch (fencing token) along and the store must reject lower tokens.
 */
import { and, assertEvent, assign, cancel, enqueueActions, fromCallback, not, sendTo, setup, type EventObject } from 'xstate';
import { serviceMachine, type Role, type RoleTransition } from './service.machine.ts';
import type { ServiceSpec } from './role.machine.ts';
import type { RoleTag } from './role-tags.ts';

export interface LeaseTiming {
  /** How long the coordinator keeps a lease that is not renewed. */
  ttlMs: number;
  /** A primary that has not renewed within this long steps down; less than ttlMs. */
  renewDeadlineMs: number;
  /** Time between renewals by the primary and between campaigns by the others. */
  retryPeriodMs: number;
}

export interface LeaseInput {
  nodeId: string;
  timing: LeaseTiming;
  /** `standby` never campaigns (a node that must not lead); `primary` is refused by config. */
  mode?: 'auto' | 'standby';
  services?: readonly ServiceSpec[];
  /** The highest epoch an earlier run made durable: campaigns ask for a token above it, and a lower grant is refused. */
  epoch?: number;
}

export type LeaseEvent =
  | { type: 'COORDINATOR.UP' }
  | { type: 'COORDINATOR.DOWN'; reason: string }
  /** Raised by the machine itself, `renewDeadlineMs` after a COORDINATOR.DOWN that no COORDINATOR.UP followed. */
  | { type: 'COORDINATOR.LOST' }
  /** The coordinator granted us the lease; `rttMs` is the request's round trip. */
  | { type: 'LEASE.ACQUIRED'; token: number; rttMs: number }
  | { type: 'LEASE.RENEWED'; token: number; rttMs: number }
  /** The coordinator says we no longer hold the lease (it expired or another node holds it). */
  | { type: 'LEASE.LOST'; token: number; reason: string }
  /** Who holds the lease now; null = nobody (released or expired). */
  | { type: 'LEADER.OBSERVED'; leaderId: string | null; token: number }
  | { type: 'RESIGN' }
  /** The `persistEpoch` actor made this token durable. */
  | { type: 'EPOCH.PERSISTED'; epoch: number }
  /** This node must not take part (its epoch cannot be made durable): role unknown. */
  | { type: 'FAULT'; reason: string }
  /** Another live process is registered with our node id: we must not campaign. */
  | { type: 'IDENTITY.CONFLICT'; from: string };

/** Sent to the coordinator actor. */
/**
 * `minToken` is the highest epoch this node has seen: a coordinator that lost its token counter
 * (a restart without persistence) still issues a token above every token the node knows of.
 */
export type CoordinatorCommand = { type: 'CAMPAIGN'; minToken: number } | { type: 'RENEW'; token: number } | { type: 'RELEASE'; token: number };

export interface LeaseContext {
  nodeId: string;
  mode: 'auto' | 'standby';
  timing: LeaseTiming;
  role: Role;
  epoch: number;
  primaryId: string | null;
  coordinatorUp: boolean;
  /** Why the coordinator was last reported down; the fault reason names it if it stays down. */
  coordinatorDownReason: string;
  /** Round trip of the last successful grant or renewal: the deadline counts from its sending. */
  lastRttMs: number;
  /** Set by RESIGN: do not campaign again for one lease TTL, so another node takes the role. */
  resigned: boolean;
  roleChanges: number;
  reason: string;
  /** A granted token waiting to be made durable before this node acts on it (state `claiming`). */
  claimEpoch: number;
  serviceIds: string[];
  services: readonly ServiceSpec[];
}

function transitionOf(context: LeaseContext, to: Role): RoleTransition {
  return { from: context.role, to, epoch: context.epoch, nodeId: context.nodeId, primaryId: context.primaryId, reason: context.reason };
}

/** Id of the delayed COORDINATOR.LOST, so that COORDINATOR.UP can cancel it. */
const COORDINATOR_LOSS = 'coordinatorLoss';

export const leaseMachine = setup({
  types: {
    context: {} as LeaseContext,
    events: {} as LeaseEvent,
    input: {} as LeaseInput,
    tags: {} as RoleTag,
  },
  actors: {
    // Stand-in so the machine runs as it is in the visualizer; src/backends supplies the real one.
    coordinator: fromCallback<CoordinatorCommand, { nodeId: string }>(() => () => {}),
    /** As in role.machine.ts: makes `input.epoch` durable, then EPOCH.PERSISTED (or FAULT). */
    persistEpoch: fromCallback<EventObject, { epoch: number }>(({ sendBack, input }) => {
      sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch });
    }),
    service: serviceMachine,
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
    spawnServices: enqueueActions(({ context, enqueue }) => {
      for (const spec of context.services) {
        enqueue.spawnChild('service', { id: `service:${spec.name}`, input: { name: spec.name, definition: spec.definition } });
      }
    }),
    enterRole: enqueueActions(({ context, enqueue }, params: { role: Role }) => {
      if (context.role === params.role) return;
      enqueue.assign({ role: params.role, roleChanges: context.roleChanges + 1 });
      const transition = transitionOf(context, params.role);
      for (const id of context.serviceIds) enqueue.sendTo(id, { type: 'ROLE.CHANGED', transition });
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
      for (const id of context.serviceIds) enqueue.sendTo(id, { type: 'ROLE.CHANGED', transition: transitionOf(next, 'standby') });
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
}).createMachine({
  id: 'lease',
  context: ({ input }) => ({
    nodeId: input.nodeId,
    mode: input.mode ?? 'auto',
    timing: input.timing,
    role: 'unknown',
    epoch: input.epoch ?? 0,
    primaryId: null,
    coordinatorUp: false,
    coordinatorDownReason: '',
    lastRttMs: 0,
    resigned: false,
    roleChanges: 0,
    reason: 'starting',
    claimEpoch: 0,
    serviceIds: (input.services ?? []).map((s) => `service:${s.name}`),
    services: input.services ?? [],
  }),
  entry: 'spawnServices',
  invoke: { id: 'coordinator', src: 'coordinator', input: ({ context }) => ({ nodeId: context.nodeId }) },
  on: {
    'COORDINATOR.UP': { actions: ['disarmCoordinatorLoss', 'noteCoordinatorUp'] },
    'COORDINATOR.DOWN': {
      actions: ['armCoordinatorLoss', 'noteCoordinatorDown'],
      description: 'The coordinator actor reports the connection lost or a request failed. Nothing changes yet: a primary keeps its lease until its renew deadline; the loss bound starts.',
    },
    'COORDINATOR.LOST': {
      guard: not('isCoordinatorUp'),
      target: '.unknown',
      // Releases only end the lease validity that services see; the coordinator cannot hear them.
      actions: ['noteCoordinatorLost', 'releaseClaim', 'sendRelease'],
      description: 'Down for the renew deadline with no UP: a fault (role unknown, notify.fault, /healthz 503). COORDINATOR.UP leads back to electing.',
    },
    // Give back a lease we may hold (a RELEASE of a token we do not hold changes nothing).
    FAULT: { target: '.unknown', actions: ['noteFault', 'releaseClaim', 'sendRelease'] },
    // The coordinator sends COORDINATOR.UP again once the id is ours.
    'IDENTITY.CONFLICT': { target: '.unknown', actions: 'noteConflict' },
  },
  initial: 'unknown',
  states: {
    unknown: {
      description: 'Role unknown: the coordinator is not (yet) reachable, a fault, or a duplicate node id. Leaves when the coordinator reports up.',
      tags: 'unknown',
      entry: { type: 'enterRole', params: { role: 'unknown' } },
      on: {
        'COORDINATOR.UP': [
          { guard: 'isNeverLeader', target: 'standby', actions: ['disarmCoordinatorLoss', 'noteCoordinatorUp'] },
          { target: 'electing', actions: ['disarmCoordinatorLoss', 'noteCoordinatorUp'] },
        ],
      },
    },
    electing: {
      description: 'Campaigns for the lease every retry period until it is granted or another holder is observed.',
      tags: 'electing',
      entry: ['forgetLeader', { type: 'enterRole', params: { role: 'electing' } }, 'sendCampaign'],
      after: { retryPeriod: { target: 'electing', reenter: true } },
      on: {
        'LEASE.ACQUIRED': [
          // Give it back; the next campaign (after the retry period) asks for a token above our epoch.
          { guard: 'isStaleGrant', actions: ['noteStaleGrant', 'releaseGrant'] },
          { target: 'claiming', actions: 'claimLease' },
        ],
        'LEADER.OBSERVED': [
          { guard: 'isOtherLeader', target: 'standby', actions: 'followLeader' },
          { guard: 'isNoLeader', actions: 'sendCampaign' },
        ],
      },
    },
    /**
     * Granted, not yet primary: the token is being made durable. Services hear nothing and the
     * reported role stays the one we came from (roleOfSnapshot) until EPOCH.PERSISTED; a failed write
     * arrives as FAULT and releases the lease. Bounded by the renew deadline like a primary.
     */
    claiming: {
      description: 'Granted the lease; its token is being made durable before it is used. The reported role is still the one we came from. Bounded by the renew deadline.',
      tags: 'claiming',
      invoke: { src: 'persistEpoch', input: ({ context }) => ({ epoch: context.claimEpoch }) },
      after: {
        renewDeadline: { target: 'electing', actions: [{ type: 'noteStepDown', params: { reason: 'the epoch was not made durable within the renew deadline' } }, 'releaseClaim'] },
      },
      on: {
        'EPOCH.PERSISTED': { target: 'primary', actions: 'takeLease', description: 'The granted token is durable: become primary with it as the epoch.' },
        'LEASE.LOST': { guard: 'isClaimToken', target: 'electing', actions: 'noteLost' },
        RESIGN: { target: 'standby', actions: ['noteResigned', 'releaseClaim'] },
      },
    },
    primary: {
      description: 'Holds the lease: services act; renews every retry period and steps down if no renewal succeeds within the renew deadline.',
      tags: 'primary',
      entry: { type: 'enterRole', params: { role: 'primary' } },
      type: 'parallel',
      on: {
        'LEASE.LOST': { guard: 'isOurToken', target: 'electing', actions: ['noteLost', 'sendRelease'], description: 'The coordinator says our lease is gone: stop acting at once.' },
        'LEADER.OBSERVED': { guard: 'isNewerLeader', target: 'standby', actions: ['noteLost', 'followLeader'] },
        // Release first: the others hear of it and campaign at once instead of waiting for the TTL.
        RESIGN: { target: 'standby', actions: ['noteResigned', 'sendRelease'], description: 'Release the lease and hold off for one TTL so another node takes it.' },
      },
      states: {
        renew: {
          description: 'Sends a renewal every retry period.',
          initial: 'waiting',
          states: {
            waiting: { description: 'Waiting for the next renewal.', after: { retryPeriod: { target: 'waiting', reenter: true, actions: 'sendRenew' } } },
          },
        },
        deadline: {
          description: 'Tracks the renew deadline, counted from when the last successful renewal was sent.',
          initial: 'valid',
          states: {
            valid: {
              description: 'The lease is valid: a successful renewal restarts the deadline; reaching it steps down.',
              after: {
                renewDeadline: {
                  target: '#lease.electing',
                  actions: [{ type: 'noteStepDown', params: { reason: 'no successful renewal within the renew deadline' } }, 'sendRelease'],
                  description: 'No successful renewal within the renew deadline: step down on our own clock, before the lease can expire.',
                },
              },
              on: { 'LEASE.RENEWED': { guard: 'isOurToken', target: 'valid', reenter: true, actions: 'noteRenewal' } },
            },
          },
        },
      },
    },
    standby: {
      description: 'Another node holds the lease (or we never lead): follows the holder and campaigns when the lease may be free.',
      tags: 'standby',
      entry: { type: 'enterRole', params: { role: 'standby' } },
      on: {
        'LEASE.ACQUIRED': [
          { guard: 'isNeverLeader' },
          { guard: 'isStaleGrant', actions: ['noteStaleGrant', 'releaseGrant'] },
          { target: 'claiming', actions: 'claimLease' },
        ],
        'LEADER.OBSERVED': [
          { guard: 'isOtherLeader', actions: 'followLeader' },
          // The leader may be gone: look now. Its answer names the leader, or grants us the lease.
          { guard: and(['isNoLeader', not('isNeverLeader'), not('hasResigned')]), actions: 'sendCampaign' },
        ],
      },
      initial: 'choosing',
      states: {
        choosing: {
          description: 'Picks the standby mode: passive (never leads), holding off (just resigned) or watching.',
          always: [{ guard: 'isNeverLeader', target: 'passive' }, { guard: 'hasResigned', target: 'holdingOff' }, { target: 'watching' }],
        },
        // Campaign every period: a lease that expired (its holder crashed) is taken within TTL + period.
        watching: { description: 'Campaigns every retry period, so a lease whose holder died is taken within its TTL plus one period.', after: { retryPeriod: { target: 'watching', reenter: true, actions: 'sendCampaign' } } },
        holdingOff: { description: 'Just resigned: does not campaign for one lease TTL, so another node takes the role.', after: { leaseTtl: { target: 'watching', actions: 'clearResigned' } } },
        passive: { description: 'Configured never to lead: only follows the holder.' },
      },
    },
  },
});

export type LeaseMachine = typeof leaseMachine;
