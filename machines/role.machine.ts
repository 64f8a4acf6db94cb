/**
 * The node role statechart: unknown -> electing -> primary | standby, with yield on conflict.
 *
 * This machine is the whole election algorithm and nothing else. It is pure: messages and
 * the passing of time (XState delays, driven by whatever clock the actor system was given)
 * go in; messages to send and role transitions for services come out. The caller does the
 * I/O by providing the `transport`, `confirmSilence` and `persistEpoch` actors (see src/runtime), or a
 * simulated network (see src/testing).
 *
 * What it guarantees, given a network that eventually delivers:
 *  - every node applies the same total order (priority, then lower IPv4; see rank.ts), so
 *    nodes that hear each other agree on who should be primary;
 *  - two primaries that hear each other resolve within one heartbeat: the lower-ranked one
 *    yields, the other re-asserts with a higher epoch;
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
import { and, assertEvent, assign, enqueueActions, fromCallback, not, sendTo, setup, type EventObject } from 'xstate';
import { outranks, type Rankable } from './rank.ts';
import { serviceMachine, type Role, type RoleTransition } from './service.machine.ts';
import { LEAVING_PRIORITY, type WireRole } from './identity.ts';
import { roleOfSnapshot, type RoleSnapshot, type RoleTag } from './role-tags.ts';

export type { Role, RoleTransition };
export type { WireRole };
export { roleOfSnapshot, type RoleSnapshot, type RoleTag };
export type RoleMode = 'auto' | 'primary' | 'standby';

/**
 * A declaration of role standby carrying LEAVING_PRIORITY (identity.ts) means "I was primary and
 * I am leaving" (keepalived sends a priority-0 advert for the same purpose).
 */
export { LEAVING_PRIORITY };

/** What a datagram tells us about its sender. */
export interface PeerInfo extends Rankable {
  role: WireRole;
  epoch: number;
  /**
   * The datagram was a role declaration: sent as a node takes a role, and by a standby every
   * beat while its term is above its primary's.
   */
  declared?: boolean;
}

export interface PeerState extends PeerInfo {
  /** Heartbeat ticks of ours since we last heard this peer; it is forgotten past the timeout. */
  silentTicks: number;
}

export interface OutboundMessage {
  type: 'announce' | 'heartbeat' | 'declaration';
  role: WireRole;
  nodeId: string;
  priority: number;
  epoch: number;
}

export interface RoleTiming {
  electionWindowMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
}

export interface ServiceSpec {
  name: string;
  definition: unknown;
}

export interface RoleInput {
  nodeId: string;
  priority: number;
  mode?: RoleMode;
  preempt?: boolean;
  timing: RoleTiming;
  services?: readonly ServiceSpec[];
  /** The highest epoch an earlier run of this node made durable: the node starts there, never below. */
  epoch?: number;
}

export type RoleEvent =
  | { type: 'TRANSPORT.UP' }
  | { type: 'TRANSPORT.DOWN'; reason: string }
  | { type: 'PEER.ANNOUNCE'; peer: PeerInfo }
  /** A node that is itself electing answered an announcement (declaration with role unknown). */
  | { type: 'PEER.ELECTING'; peer: PeerInfo }
  | { type: 'PEER.PRIMARY'; peer: PeerInfo }
  | { type: 'PEER.STANDBY'; peer: PeerInfo }
  /** The primary announced a graceful hand-over (declaration, role standby, LEAVING_PRIORITY). */
  | { type: 'PEER.LEAVING'; peer: PeerInfo }
  /** Operator or shutdown: a primary hands over to the best standby at once. */
  | { type: 'RESIGN' }
  | { type: 'SILENCE.CONFIRMED' }
  /** The `persistEpoch` actor made this epoch (or a higher one) durable. */
  | { type: 'EPOCH.PERSISTED'; epoch: number }
  /** This node must not take part (e.g. its epoch cannot be made durable): role unknown, like a lost transport. */
  | { type: 'FAULT'; reason: string }
  /**
   * A datagram carrying our own node id that we did not send: another live process uses our
   * id. `from` is where it came from (address:port), for the operator.
   */
  | { type: 'IDENTITY.CONFLICT'; from: string };

/** Sent to the transport actor. */
export interface SendEvent {
  type: 'SEND';
  message: OutboundMessage;
}

export interface RoleContext {
  self: Rankable;
  mode: RoleMode;
  preempt: boolean;
  timing: RoleTiming;
  role: Role;
  epoch: number;
  maxSeenEpoch: number;
  primaryId: string | null;
  peers: Record<string, PeerState>;
  candidates: Record<string, PeerInfo>;
  /**
   * Nodes that announced they are leaving, with the epoch they left at. UDP may deliver a
   * heartbeat sent just before the leaving declaration after it; such a stale claim must not
   * make the new primary yield back. A claim with a higher epoch is a genuine new term.
   */
  departed: Record<string, number>;
  /** Rate limit: a primary answers a conflicting primary at most once per heartbeat tick. */
  reassertedThisTick: boolean;
  /** Rate limit: announcements a primary answered with a heartbeat since its last tick. */
  answersThisTick: number;
  roleChanges: number;
  reason: string;
  /** The epoch a takeover or re-assertion will use once it is durable, and the reason it will give. */
  claimEpoch: number;
  claimReason: string;
  serviceIds: string[];
  services: readonly ServiceSpec[];
}

/**
 * Every event that carries a peer. Guards and actions narrow to the event types they are used
 * with (assertEvent), so wiring one to another event fails loudly instead of reading no peer.
 */
const PEER_EVENTS = ['PEER.ANNOUNCE', 'PEER.ELECTING', 'PEER.PRIMARY', 'PEER.STANDBY', 'PEER.LEAVING'] as const;

/** Ticks of silence after which a peer is forgotten: the same span as the heartbeat timeout. */
const maxSilentTicks = (t: RoleTiming) => Math.ceil(t.heartbeatTimeoutMs / t.heartbeatIntervalMs);

const MAX_DEPARTED = 64;

/** The best-ranked primary we heard within the last tick, other than the one that fell silent. */
function otherLivePrimary(context: RoleContext): PeerState | null {
  const live = Object.values(context.peers).filter((p) => p.role === 'primary' && p.nodeId !== context.primaryId && p.silentTicks <= 1);
  return live.length === 0 ? null : live.reduce((a, b) => (outranks(b, a) ? b : a));
}

/**
 * A primary answers an announcement with a heartbeat and a declaration, so that seed-design
 * newcomers (which only count primary heartbeats during their window) find it. A flood of
 * announcements must not make it send without bound: beyond this many answers per tick, the
 * regular heartbeat is the answer.
 */
export const MAX_ANSWERS_PER_TICK = 4;

const wireRole = (role: Role): WireRole => (role === 'primary' || role === 'standby' ? role : 'unknown');

function messageOf(context: RoleContext, type: OutboundMessage['type']): OutboundMessage {
  const role = type === 'announce' ? 'unknown' : wireRole(context.role);
  return { type, role, nodeId: context.self.nodeId, priority: context.self.priority, epoch: context.epoch };
}

/**
 * A standby that holds a newer term than the primary it follows (a primary that yielded to it
 * after a partition) keeps declaring it, every beat, until the primary has moved above it: a
 * single declaration lost on the wire must not leave the primary below that term for good.
 */
function aheadOfOurPrimary(context: RoleContext): boolean {
  if (context.role !== 'standby' || context.primaryId === null) return false;
  const primary = context.peers[context.primaryId];
  return primary !== undefined && primary.role === 'primary' && context.epoch > primary.epoch;
}

function transitionOf(context: RoleContext, to: Role): RoleTransition {
  return {
    from: context.role,
    to,
    epoch: context.epoch,
    nodeId: context.self.nodeId,
    primaryId: context.primaryId,
    reason: context.reason,
  };
}

export const roleMachine = setup({
  types: {
    context: {} as RoleContext,
    events: {} as RoleEvent,
    input: {} as RoleInput,
    tags: {} as RoleTag,
  },
  actors: {
    // Stand-ins so the machine runs as it is in the visualizer; src/ supplies the real ones.
    transport: fromCallback<SendEvent, { nodeId: string }>(() => () => {}),
    confirmSilence: fromCallback(({ sendBack }) => {
      sendBack({ type: 'SILENCE.CONFIRMED' });
    }),
    /**
     * Makes `input.epoch` durable, then answers EPOCH.PERSISTED (or FAULT). A new epoch goes on
     * the wire and to services only after this answer: see the `claiming` state and
     * `primary.reasserting`. The stand-in answers at once; src/ supplies the store.
     */
    persistEpoch: fromCallback<EventObject, { epoch: number }>(({ sendBack, input }) => {
      sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch });
    }),
    service: serviceMachine,
  },
  guards: {
    isForcedPrimary: ({ context }) => context.mode === 'primary',
    isForcedStandby: ({ context }) => context.mode === 'standby',
    isNewCandidate: ({ context, event }) => {
      assertEvent(event, 'PEER.ANNOUNCE');
      return !(event.peer.nodeId in context.candidates);
    },
    isPrimaryLeaving: ({ context, event }) => {
      assertEvent(event, 'PEER.LEAVING');
      return event.peer.nodeId === context.primaryId;
    },
    isStaleClaim: ({ context, event }) => {
      assertEvent(event, 'PEER.PRIMARY');
      const leftAt = context.departed[event.peer.nodeId];
      return leftAt !== undefined && event.peer.epoch <= leftAt;
    },
    isBestCandidate: ({ context }) =>
      Object.values(context.candidates).every((c) => outranks(context.self, c)),
    isBestLiveStandby: ({ context }) =>
      Object.values(context.peers)
        .filter((p) => p.role !== 'primary' && p.nodeId !== context.primaryId)
        .every((p) => outranks(context.self, p)),
    mustYieldToPeer: ({ context, event }) => {
      assertEvent(event, 'PEER.PRIMARY');
      return context.mode !== 'primary' && outranks(event.peer, context.self);
    },
    mayPreemptPeer: ({ context, event }) => {
      assertEvent(event, 'PEER.PRIMARY');
      return context.mode === 'auto' && context.preempt && outranks(context.self, event.peer);
    },
    /**
     * A standby follows one primary while it is live. Another primary that does not outrank it
     * (a partition with a bridge, a twin before detection) is noted but not followed: flipping
     * between them gave services a transition per heartbeat, and carried each primary's term to
     * the other through us, so that each re-asserted over the other at every heartbeat.
     */
    isWorseThanOurPrimary: ({ context, event }) => {
      assertEvent(event, 'PEER.PRIMARY');
      const peer = event.peer;
      if (context.primaryId === null || peer.nodeId === context.primaryId) return false;
      const ours = context.peers[context.primaryId];
      return ours !== undefined && ours.role === 'primary' && !outranks(peer, ours);
    },
    hasOtherLivePrimary: ({ context }) => otherLivePrimary(context) !== null,
    /**
     * A node that just became standby declares a term above ours: it held that term itself (a
     * primary that yielded to us after a partition) or followed a primary that did. We move
     * above it so fences order us after that term. Only the declaration counts, not the
     * standby's periodic heartbeats: a standby that follows another primary we cannot hear
     * keeps reporting that primary's term, and answering each of those made the two primaries
     * push each other's epochs up at every heartbeat.
     */
    isDeclaredEpochAhead: ({ context, event }) => {
      assertEvent(event, 'PEER.STANDBY');
      return event.peer.declared === true && event.peer.epoch > context.epoch;
    },
    isPeerEpochNotBehind: ({ context, event }) => {
      assertEvent(event, 'PEER.PRIMARY');
      return event.peer.epoch >= context.epoch;
    },
  },
  actions: {
    spawnServices: enqueueActions(({ context, enqueue }) => {
      for (const spec of context.services) {
        enqueue.spawnChild('service', { id: `service:${spec.name}`, input: { name: spec.name, definition: spec.definition } });
      }
    }),
    enterRole: enqueueActions(({ context, enqueue }, params: { role: Role }) => {
      const from = context.role;
      if (from === params.role) return;
      enqueue.assign({ role: params.role, roleChanges: context.roleChanges + 1 });
      const transition = transitionOf(context, params.role);
      for (const id of context.serviceIds) enqueue.sendTo(id, { type: 'ROLE.CHANGED', transition });
    }),
    notePeer: assign(({ context, event }) => {
      assertEvent(event, PEER_EVENTS);
      const peer = event.peer;
      const update: Partial<RoleContext> = {
        peers: { ...context.peers, [peer.nodeId]: { ...peer, silentTicks: 0 } },
        maxSeenEpoch: Math.max(context.maxSeenEpoch, peer.epoch),
      };
      if (peer.nodeId in context.departed && event.type === 'PEER.PRIMARY') {
        const { [peer.nodeId]: _, ...rest } = context.departed;
        update.departed = rest;
      }
      return update;
    }),
    noteDeparture: assign({
      departed: ({ context, event }) => {
        assertEvent(event, 'PEER.LEAVING');
        const peer = event.peer;
        const entries = Object.entries(context.departed).filter(([id]) => id !== peer.nodeId);
        // Bounded: only the most recent departures matter.
        return Object.fromEntries([...entries.slice(-(MAX_DEPARTED - 1)), [peer.nodeId, peer.epoch]]);
      },
    }),
    noteCandidate: assign({
      candidates: ({ context, event }) => {
        assertEvent(event, ['PEER.ANNOUNCE', 'PEER.ELECTING', 'PEER.STANDBY']);
        return { ...context.candidates, [event.peer.nodeId]: event.peer };
      },
    }),
    clearCandidates: assign({ candidates: {}, primaryId: null }),
    agePeers: assign(({ context }) => {
      const limit = maxSilentTicks(context.timing);
      const peers: Record<string, PeerState> = {};
      for (const p of Object.values(context.peers)) {
        if (p.silentTicks + 1 <= limit) peers[p.nodeId] = { ...p, silentTicks: p.silentTicks + 1 };
      }
      return { peers, reassertedThisTick: false, answersThisTick: 0 };
    }),
    /** Decides the new epoch; it is used (context.epoch) only once durable: see `assumeClaim`. */
    takeOver: assign(({ context }, params: { reason: string }) => ({
      claimEpoch: Math.max(context.epoch, context.maxSeenEpoch) + 1,
      claimReason: params.reason,
    })),
    assumeClaim: assign(({ context, event }) => {
      assertEvent(event, 'EPOCH.PERSISTED');
      return { epoch: Math.max(context.epoch, event.epoch), primaryId: context.self.nodeId, reason: context.claimReason };
    }),
    /**
     * A standby learns of a new primary or a new term: services hear it as a standby -> standby
     * transition, so they can fence with the current epoch and know whom to redirect to.
     */
    followPrimary: enqueueActions(({ context, event, enqueue }, params: { reason: string }) => {
      assertEvent(event, 'PEER.PRIMARY');
      const peer = event.peer;
      const epoch = Math.max(context.epoch, peer.epoch);
      if (peer.nodeId === context.primaryId && epoch === context.epoch) return;
      const next = { ...context, primaryId: peer.nodeId, epoch, reason: `${params.reason} ${peer.nodeId}` };
      enqueue.assign({ primaryId: next.primaryId, epoch: next.epoch, reason: next.reason });
      if (context.role !== 'standby') return;
      for (const id of context.serviceIds) enqueue.sendTo(id, { type: 'ROLE.CHANGED', transition: transitionOf(next, 'standby') });
    }),
    /** Our primary fell silent but another one is live: follow it rather than take over. */
    followLivePrimary: enqueueActions(({ context, enqueue }) => {
      const peer = otherLivePrimary(context);
      if (peer === null) return;
      const next = { ...context, primaryId: peer.nodeId, epoch: Math.max(context.epoch, peer.epoch), reason: `our primary fell silent; following ${peer.nodeId}` };
      enqueue.assign({ primaryId: next.primaryId, epoch: next.epoch, reason: next.reason });
      for (const id of context.serviceIds) enqueue.sendTo(id, { type: 'ROLE.CHANGED', transition: transitionOf(next, 'standby') });
    }),
    adoptEpoch: assign({
      epoch: ({ context, event }) => {
        assertEvent(event, 'PEER.STANDBY');
        return Math.max(context.epoch, event.peer.epoch);
      },
    }),
    forgetPrimary: assign(({ context }, params: { reason: string }) => {
      const peers = { ...context.peers };
      if (context.primaryId !== null) delete peers[context.primaryId];
      return { peers, primaryId: null, reason: params.reason };
    }),
    noteLostElection: assign({ reason: 'lost the election' }),
    stepDown: assign({
      reason: 'resigned: handing over to the best standby',
      primaryId: null,
      // A node that resigned must not take the role straight back.
      preempt: false,
    }),
    /** A conflicting primary at our epoch or above: outbid it, once the new epoch is durable (`primary.reasserting`). */
    claimReassert: assign(({ context, event }) => {
      assertEvent(event, ['PEER.PRIMARY', 'PEER.STANDBY']);
      const peer = event.peer;
      const over = event.type === 'PEER.PRIMARY' ? 're-asserted over primary' : 'moved above the term declared by';
      return { claimEpoch: Math.max(context.epoch, context.maxSeenEpoch, peer.epoch) + 1, claimReason: `${over} ${peer.nodeId} (epoch ${peer.epoch})` };
    }),
    applyReassert: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'EPOCH.PERSISTED');
      const epoch = Math.max(context.epoch, event.epoch);
      const next = { ...context, epoch, reason: context.claimReason };
      enqueue.assign({ epoch, reason: next.reason, reassertedThisTick: true });
      for (const id of context.serviceIds) enqueue.sendTo(id, { type: 'ROLE.CHANGED', transition: transitionOf(next, next.role) });
      enqueue.sendTo('transport', { type: 'SEND', message: messageOf(next, 'heartbeat') } satisfies SendEvent);
    }),
    /** A conflicting primary below our epoch: remind it, at most once per tick. */
    reassert: enqueueActions(({ context, enqueue }) => {
      if (context.reassertedThisTick) return;
      enqueue.assign({ reassertedThisTick: true });
      enqueue.sendTo('transport', { type: 'SEND', message: messageOf(context, 'heartbeat') } satisfies SendEvent);
    }),
    // The seed's newcomers count only primary heartbeats; hastate's take the declaration.
    answerAnnounce: enqueueActions(({ context, enqueue }) => {
      if (context.answersThisTick >= MAX_ANSWERS_PER_TICK) return;
      enqueue.assign({ answersThisTick: context.answersThisTick + 1 });
      enqueue.sendTo('transport', { type: 'SEND', message: messageOf(context, 'heartbeat') } satisfies SendEvent);
      enqueue.sendTo('transport', { type: 'SEND', message: messageOf(context, 'declaration') } satisfies SendEvent);
    }),
    noteConflict: assign(({ context, event }) => {
      assertEvent(event, 'IDENTITY.CONFLICT');
      return { reason: `duplicate node id: another process at ${event.from} uses node id ${context.self.nodeId}`, primaryId: null, candidates: {} };
    }),
    noteFault: assign(({ event }) => {
      assertEvent(event, 'FAULT');
      return { reason: event.reason, primaryId: null, peers: {} };
    }),
    noteTransportDown: assign(({ event }) => {
      assertEvent(event, 'TRANSPORT.DOWN');
      return { reason: `transport down: ${event.reason}`, primaryId: null, peers: {} };
    }),
    sendLeaving: sendTo('transport', ({ context }): SendEvent => ({
      type: 'SEND',
      message: { type: 'declaration', role: 'standby', nodeId: context.self.nodeId, priority: LEAVING_PRIORITY, epoch: context.epoch },
    })),
    sendAnnounce: sendTo('transport', ({ context }): SendEvent => ({ type: 'SEND', message: messageOf(context, 'announce') })),
    sendHeartbeat: sendTo('transport', ({ context }): SendEvent => ({ type: 'SEND', message: messageOf(context, aheadOfOurPrimary(context) ? 'declaration' : 'heartbeat') })),
    sendDeclaration: sendTo('transport', ({ context }): SendEvent => ({ type: 'SEND', message: messageOf(context, 'declaration') })),
  },
  delays: {
    electionWindow: ({ context }) => context.timing.electionWindowMs,
    heartbeatInterval: ({ context }) => context.timing.heartbeatIntervalMs,
    heartbeatTimeout: ({ context }) => context.timing.heartbeatTimeoutMs,
    // Both duplicates beat every interval while in conflict. Holding for the timeout plus one
    // interval outlasts as many lost datagrams in a row as a standby tolerates from its primary
    // (and one more), so a live twin keeps the conflict up; a silent one ends it this long
    // after its last datagram.
    conflictHold: ({ context }) => context.timing.heartbeatTimeoutMs + context.timing.heartbeatIntervalMs,
  },
}).createMachine({
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
    serviceIds: (input.services ?? []).map((s) => `service:${s.name}`),
    services: input.services ?? [],
  }),
  entry: 'spawnServices',
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
            actions: ['notePeer', { type: 'followPrimary', params: { reason: 'yielded to higher-ranked primary' } }],
            description: 'Two primaries hear each other: the lower-ranked one yields and follows the other.',
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
                  { guard: 'mayPreemptPeer', target: '#role.claiming', actions: ['notePeer', { type: 'takeOver', params: { reason: 'preempted a lower-ranked primary' } }] },
                  { guard: 'isWorseThanOurPrimary', actions: 'notePeer' },
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
              after: { heartbeatInterval: { target: 'beating', reenter: true, actions: ['agePeers', 'sendHeartbeat'] } },
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
