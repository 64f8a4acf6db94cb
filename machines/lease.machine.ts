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
import { and, not } from 'xstate';
import { leaseSetup } from './lease-setup.ts';

export type * from './lease-types.ts';

export const leaseMachine = leaseSetup.createMachine({
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
  }),
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
    'IDENTITY.CONFLICT': { target: '.unknown.conflict', actions: 'noteConflict', description: 'Another live process is registered with our node id: neither may campaign.' },
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
      initial: 'waiting',
      states: {
        waiting: { description: 'Starting, the coordinator lost, or a fault: waiting for the coordinator to report up.' },
        // A state, not only a reason: later reasons (the coordinator reported down meanwhile) must not hide the conflict.
        conflict: { description: 'Another live process is registered with our node id. The coordinator reports up again once the id is ours.' },
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
