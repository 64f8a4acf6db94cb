/**
 * The node role statechart: unknown -> electing -> primary | standby, with yield on conflict.
 *
 * This machine is the whole election algorithm and nothing else. It is pure: messages and
 * the passing of time (XState delays, driven by whatever clock the actor system was given)
 * go in; messages to send and role transitions for services come out. The caller does the
 * I/O by providing the `transport`, `confirmSilence` and `persistEpoch` actors (see src/runtime), or a
 * simulated network (see src/testing). Its guards, actions and delays are in role-setup.ts, its
 * types in role-types.ts; each state carries a tag naming its role (role-tags.ts).
 *
 * What it guarantees, given a network that eventually delivers:
 *  - every node applies the same total order (priority, then lower IPv4; see rank.ts), so
 *    nodes that hear each other agree on who should be primary;
 *  - two primaries that hear each other resolve within one heartbeat: the lower-ranked one
 *    yields, the other re-asserts with a higher epoch; a primary that yields declares the term
 *    it held as it steps down (and again each beat while the survivor holds that same epoch),
 *    so the survivor ends above every epoch a yielded primary held even when it never heard
 *    that primary's heartbeat (it yielded first);
 *  - a standby takes over after `heartbeatTimeoutMs` of silence from the primary, and only
 *    after every datagram that already arrived has been processed (`confirmSilence`);
 *  - epochs never decrease on a node, and a primary that survives a conflict holds an epoch
 *    greater than any epoch it has seen;
 *  - across restarts too: a node starts at the epoch its earlier runs made durable (input
 *    `epoch`), and a new epoch is sent or told to services only after the `persistEpoch` actor
 *    made it durable (states `claiming` and `primary.reasserting`);
 *  - epochs rise only with takeovers and role changes, never with heartbeats alone (a standby
 *    follows one live primary, and a primary moves above a standby's term only when the
 *    standby declares it);
 *  - two live processes with one node id (IDENTITY.CONFLICT from the transport) both hold
 *    role unknown until one timeout plus one interval after the other fell silent.
 * What it does not guarantee: with two nodes there is no quorum, so a partition elects a
 * primary on each side until it heals; two sides that promote independently may hold the
 * same epoch number meanwhile (the pair (epoch, nodeId) stays unique).
 */
import { and, not } from 'xstate';
import { roleSetup } from './role-setup.ts';
import type { Role, RoleTransition } from './service.machine.ts';
import { LEAVING_PRIORITY, type WireRole } from './identity.ts';
import { roleOfSnapshot, type RoleSnapshot, type RoleTag } from './role-tags.ts';

export type { Role, RoleTransition };
export type { WireRole };
export { roleOfSnapshot, type RoleSnapshot, type RoleTag };
export { MAX_ANSWERS_PER_TICK } from './role-setup.ts';
export type * from './role-types.ts';

/**
 * A declaration of role standby carrying LEAVING_PRIORITY (identity.ts) means "I was primary and
 * I am leaving" (keepalived sends a priority-0 advert for the same purpose).
 */
export { LEAVING_PRIORITY };

export const roleMachine = roleSetup.createMachine({
  id: 'role',
  context: ({ input }) => ({
    self: { nodeId: input.nodeId, priority: input.priority },
    mode: input.mode ?? 'auto',
    preempt: input.preempt ?? false,
    timing: input.timing,
    role: 'unknown',
    epoch: input.epoch ?? 0,
    maxSeenEpoch: input.epoch ?? 0,
    primaryId: null,
    peers: {},
    candidates: {},
    departed: {},
    reassertedThisTick: false,
    answersThisTick: 0,
    roleChanges: 0,
    reason: 'starting',
    claimEpoch: 0,
    claimReason: '',
    yieldedEpoch: 0,
  }),
  invoke: { id: 'transport', src: 'transport', input: ({ context }) => ({ nodeId: context.self.nodeId }) },
  on: {
    'TRANSPORT.DOWN': { target: '.unknown', actions: 'noteTransportDown', description: 'The socket is lost: whatever the role, role unknown until it is back.' },
    FAULT: { target: '.unknown', actions: 'noteFault', description: 'This node must not take part (e.g. its epoch cannot be made durable): role unknown.' },
    // Two live processes with one id hold the same (epoch, node id), which no fence can tell
    // apart: neither may be primary. The same fault as a lost socket: role unknown.
    'IDENTITY.CONFLICT': { target: '.unknown.conflict', actions: 'noteConflict', description: 'Another live process uses our node id: neither may be primary.' },
  },
  initial: 'unknown',
  states: {
    unknown: {
      description: 'Role unknown: not taking part (starting, transport down, a fault, or a duplicate node id). Services are told role unknown.',
      tags: 'unknown',
      entry: { type: 'enterRole', params: { role: 'unknown' } },
      initial: 'down',
      states: {
        down: {
          description: 'Waiting for the transport to come up.',
          on: {
            'TRANSPORT.UP': [
              { guard: 'isForcedPrimary', target: '#role.claiming', actions: { type: 'takeOver', params: { reason: 'role forced to primary by config' } } },
              { guard: 'isForcedStandby', target: '#role.standby' },
              { target: '#role.electing' },
            ],
          },
        },
        /**
         * Keep beating (role unknown, which peers take as "electing") so the other process keeps
         * detecting us too; the conflict ends one timeout and one interval after the last
         * datagram from it, and we start over with an election (which announces, so a
         * still-live twin is found again).
         */
        conflict: {
          description: 'Another live process uses our node id: keep beating as role unknown so it detects us too, until it has been silent for one timeout plus one interval.',
          entry: 'sendHeartbeat',
          type: 'parallel',
          states: {
            beat: {
              description: 'Beats every heartbeat interval while in conflict.',
              initial: 'beating',
              states: {
                beating: { description: 'Sends a heartbeat (role unknown) every interval.', after: { heartbeatInterval: { target: 'beating', reenter: true, actions: ['agePeers', 'sendHeartbeat'] } } },
              },
            },
            hold: {
              description: 'Holds the conflict until the twin has been silent long enough.',
              initial: 'holding',
              states: {
                holding: {
                  description: 'Each datagram from the twin restarts the hold timer; when it expires, a new election starts.',
                  after: { conflictHold: '#role.electing' },
                  // Restarts only the hold timer: answering each datagram would ping-pong forever.
                  on: { 'IDENTITY.CONFLICT': { target: 'holding', reenter: true, actions: 'noteConflict' } },
                },
              },
            },
          },
        },
      },
    },
    electing: {
      description: 'Announced ourselves; collecting candidates for one election window. A live primary heard meanwhile is followed at once.',
      tags: 'electing',
      entry: ['clearCandidates', { type: 'enterRole', params: { role: 'electing' } }, 'sendAnnounce'],
      on: {
        'PEER.PRIMARY': [
          { guard: 'isStaleClaim' },
          // Reached only after an identity conflict: a forced primary never follows.
          { guard: 'isForcedPrimary', actions: 'notePeer' },
          { target: 'standby', actions: ['notePeer', { type: 'followPrimary', params: { reason: 'found a live primary' } }] },
        ],
        'PEER.STANDBY': { actions: ['notePeer', 'adoptEpoch', 'noteCandidate'] },
        // A node that started a moment after us missed our announcement: answer it once, so
        // that nodes starting within one window all see the same candidates.
        'PEER.ANNOUNCE': [
          { guard: 'isNewCandidate', actions: ['notePeer', 'noteCandidate', 'sendDeclaration'] },
          { actions: ['notePeer', 'noteCandidate'] },
        ],
        'PEER.ELECTING': { actions: ['notePeer', 'noteCandidate'] },
        'PEER.LEAVING': { actions: ['notePeer', 'noteDeparture'] },
      },
      initial: 'listening',
      states: {
        listening: { description: 'Collecting announcements and declarations for the election window.', after: { electionWindow: 'deciding' } },
        // Judge only after datagrams that arrived during a stall have been read.
        deciding: {
          description: 'Window over: after every datagram already received is processed, the best-ranked candidate claims the primary role, the others become standby.',
          invoke: { src: 'confirmSilence' },
          on: {
            'SILENCE.CONFIRMED': [
              // Only after an identity conflict does a forced node pass through an election.
              { guard: 'isForcedPrimary', target: '#role.claiming', actions: { type: 'takeOver', params: { reason: 'role forced to primary by config' } } },
              { guard: 'isForcedStandby', target: '#role.standby' },
              { guard: 'isBestCandidate', target: '#role.claiming', actions: { type: 'takeOver', params: { reason: 'won the election' } }, description: 'We outrank every candidate heard: claim the primary role.' },
              { target: '#role.standby', actions: 'noteLostElection' },
            ],
          },
        },
      },
    },
    /**
     * Won the role, not yet primary: the new epoch (claimEpoch) is being made durable. Nothing
     * has been sent or told at this epoch; the role reported is still the one we came from (see
     * roleOfSnapshot). Only on EPOCH.PERSISTED does the node enter primary, announce and tell services,
     * so a node that crashes here restarts above the epoch it was about to use. A failed write
     * arrives as FAULT (root) and the node goes to unknown instead.
     */
    claiming: {
      description: 'Won the primary role; the new epoch is being made durable. Nothing is sent or told at that epoch yet, and the reported role is still the one we came from.',
      tags: 'claiming',
      invoke: { src: 'persistEpoch', input: ({ context }) => ({ epoch: context.claimEpoch }) },
      on: {
        'EPOCH.PERSISTED': { target: 'primary', actions: 'assumeClaim', description: 'The claimed epoch is durable: become primary at it.' },
        // Conflicts are resolved by the primary state a moment later; here we only listen.
        'PEER.PRIMARY': { actions: 'notePeer' },
        'PEER.STANDBY': { actions: 'notePeer' },
        'PEER.ANNOUNCE': { actions: 'notePeer' },
        'PEER.ELECTING': { actions: 'notePeer' },
        'PEER.LEAVING': { actions: ['notePeer', 'noteDeparture'] },
      },
    },
    primary: {
      description: 'Primary: services act; heartbeats every interval; conflicts with other primaries resolved by rank and epoch.',
      tags: 'primary',
      entry: [{ type: 'enterRole', params: { role: 'primary' } }, 'sendDeclaration', 'sendHeartbeat'],
      on: {
        'PEER.PRIMARY': [
          { guard: 'isStaleClaim' },
          {
            guard: 'mustYieldToPeer',
            target: 'standby',
            actions: ['notePeer', 'declareYieldedTerm', { type: 'followPrimary', params: { reason: 'yielded to higher-ranked primary' } }],
            description: 'Two primaries hear each other: the lower-ranked one declares the term it held and yields, following the other.',
          },
          { guard: 'isPeerEpochNotBehind', target: '.reasserting', actions: ['notePeer', 'claimReassert'] },
          { actions: ['notePeer', 'reassert'] },
        ],
        'PEER.ANNOUNCE': { actions: ['notePeer', 'answerAnnounce'] },
        'PEER.ELECTING': { actions: 'notePeer' },
        'PEER.LEAVING': { actions: ['notePeer', 'noteDeparture'] },
        // Tell the standbys first (twice: it is UDP), then step down; entering standby stops services' primary work.
        RESIGN: { target: 'standby', actions: ['stepDown', 'sendLeaving', 'sendLeaving'], description: 'Hand over at once: a leaving declaration lets the best standby take over without waiting for the timeout.' },
        'PEER.STANDBY': [
          { guard: 'isDeclaredEpochAhead', target: '.reasserting', actions: ['notePeer', 'claimReassert'] },
          { actions: 'notePeer' },
        ],
      },
      initial: 'beating',
      states: {
        beating: {
          description: 'Sends a heartbeat every interval and ages the peers it has heard.',
          after: { heartbeatInterval: { target: 'beating', reenter: true, actions: ['agePeers', 'sendHeartbeat'] } },
        },
        // The higher epoch goes on the wire and to services only once durable, as in `claiming`.
        reasserting: {
          description: 'A higher epoch (to outbid a conflicting primary or a declared term) is being made durable before it is sent or told to services.',
          invoke: { src: 'persistEpoch', input: ({ context }) => ({ epoch: context.claimEpoch }) },
          on: { 'EPOCH.PERSISTED': { target: 'beating', actions: 'applyReassert' } },
        },
      },
    },
    standby: {
      description: 'Standby: follows one live primary and takes over when it falls silent past the heartbeat timeout or hands over.',
      tags: 'standby',
      entry: [{ type: 'enterRole', params: { role: 'standby' } }, 'sendDeclaration'],
      on: {
        // Our epoch is the term of the primary we follow; another standby's may be a rival's.
        'PEER.STANDBY': { actions: 'notePeer' },
        'PEER.ANNOUNCE': { actions: 'notePeer' },
        'PEER.ELECTING': { actions: 'notePeer' },
        // A graceful hand-over: no need to wait for the timeout.
        'PEER.LEAVING': [
          {
            guard: and(['isPrimaryLeaving', not('isForcedStandby'), 'isBestLiveStandby']),
            target: '#role.claiming',
            actions: ['notePeer', 'noteDeparture', { type: 'forgetPrimary', params: { reason: '' } }, { type: 'takeOver', params: { reason: 'the primary handed over' } }],
            description: 'Our primary hands over and we are the best live standby: claim the role without waiting for the timeout.',
          },
          {
            guard: and(['isPrimaryLeaving', not('isForcedStandby')]),
            target: '#role.electing',
            actions: ['notePeer', 'noteDeparture', { type: 'forgetPrimary', params: { reason: 'the primary handed over to a better standby' } }],
          },
          { guard: 'isPrimaryLeaving', actions: ['notePeer', 'noteDeparture', { type: 'forgetPrimary', params: { reason: 'the primary left' } }] },
          { actions: ['notePeer', 'noteDeparture'] },
        ],
      },
      type: 'parallel',
      states: {
        watch: {
          description: 'Watches the primary: its heartbeats restart the timeout.',
          initial: 'watching',
          // PEER.PRIMARY is handled inside this region so that restarting the timeout does
          // not also restart the heartbeat region's timer.
          states: {
            watching: {
              description: 'A heartbeat from the primary within the timeout keeps us standby.',
              after: { heartbeatTimeout: { target: 'confirmingSilence', description: 'No heartbeat from the primary within the timeout.' } },
              on: {
                'PEER.PRIMARY': [
                  { guard: 'isStaleClaim' },
                  // A primary worse than the one we follow is noted first: preempting it while a better
                  // primary leads us made a bridged partition flap (take over, re-assert, yield, every few seconds).
                  { guard: 'isWorseThanOurPrimary', actions: 'notePeer' },
                  { guard: 'mayPreemptPeer', target: '#role.claiming', actions: ['notePeer', { type: 'takeOver', params: { reason: 'preempted a lower-ranked primary' } }] },
                  { target: 'watching', reenter: true, actions: ['notePeer', { type: 'followPrimary', params: { reason: 'heartbeat from' } }] },
                ],
              },
            },
            // Judge only after datagrams that arrived during a stall have been read.
            confirmingSilence: {
              description: 'Timeout reached: after every datagram already received is processed, follow another live primary, take over if best-ranked, or elect.',
              invoke: { src: 'confirmSilence' },
              on: {
                'PEER.PRIMARY': [
                  { guard: 'isStaleClaim' },
                  { target: 'watching', actions: ['notePeer', { type: 'followPrimary', params: { reason: 'heartbeat from' } }] },
                ],
                'SILENCE.CONFIRMED': [
                  { guard: 'hasOtherLivePrimary', target: 'watching', actions: 'followLivePrimary' },
                  { guard: 'isForcedStandby', target: 'watching', actions: { type: 'forgetPrimary', params: { reason: 'no heartbeat from the primary within the timeout' } } },
                  {
                    guard: 'isBestLiveStandby',
                    target: '#role.claiming',
                    actions: [{ type: 'forgetPrimary', params: { reason: '' } }, { type: 'takeOver', params: { reason: 'primary silent past the timeout' } }],
                    description: 'Failover: the primary is silent and we are the best live standby.',
                  },
                  { target: '#role.electing', actions: { type: 'forgetPrimary', params: { reason: 'no heartbeat from the primary within the timeout' } } },
                ],
              },
            },
          },
        },
        beat: {
          description: 'Beats every heartbeat interval, declaring our term while it is above our primary\'s.',
          initial: 'beating',
          states: {
            beating: {
              description: 'Sends a heartbeat (or a declaration) every interval and ages the peers it has heard.',
              after: { heartbeatInterval: { target: 'beating', reenter: true, actions: ['agePeers', 'redeclareYieldedTerm', 'sendHeartbeat'] } },
            },
          },
        },
      },
    },
  },
});

/**
 * The role of a state value: its top-level state, except that a node `claiming` the primary role
 * still has the role it came from (context.role) until its epoch is durable; without the
 * context, `claiming` reads as electing. Readers holding a snapshot use roleOfSnapshot (state
 * tags) instead; this stays for callers that have only a state value.
 */
export function roleOf(value: unknown, context?: { role: Role }): Role {
  const key = typeof value === 'string' ? value : Object.keys(value as object)[0];
  if (key === 'claiming') return context?.role ?? 'electing';
  if (key === 'primary' || key === 'standby' || key === 'electing' || key === 'unknown') return key;
  throw new Error(`not a role state: ${JSON.stringify(value)}`);
}
