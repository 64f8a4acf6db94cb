/**
 * The guards, actions, actors and delays of the multicast role machine, with the context helpers
 * they share. The states and transitions that use them are in role.machine.ts.
 */
import { assertEvent, assign, enqueueActions, fromCallback, sendTo, setup, type EventObject } from 'xstate';
import { outranks } from './rank.ts';
import type { Role, RoleChangedEvent, RoleTransition } from './service.machine.ts';
import { LEAVING_PRIORITY, type WireRole } from './identity.ts';
import type { RoleTag } from './role-tags.ts';
import type { OutboundMessage, PeerState, RoleContext, RoleEvent, RoleInput, RoleTiming, SendEvent } from './role-types.ts';

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

/** A yielded primary's claim to the term it held: a declaration, role primary, at that epoch. */
function yieldedTermMessage(context: RoleContext, epoch: number): OutboundMessage {
  return { ...messageOf(context, 'declaration'), role: 'primary', epoch };
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

export const roleSetup = setup({
  types: {
    context: {} as RoleContext,
    events: {} as RoleEvent,
    input: {} as RoleInput,
    tags: {} as RoleTag,
    emitted: {} as RoleChangedEvent,
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
  },
  guards: {
    isForcedPrimary: ({ context }) => context.mode === 'primary',
    isForcedStandby: ({ context }) => context.mode === 'standby',
    isNewCandidate: ({ context, event }) => {
      assertEvent(event, 'PEER.ANNOUNCE');
      return !(event.peer.nodeId in context.candidates);
    },
    /**
     * Our primary declares it is leaving, at an epoch no lower than the one we last heard it
     * hold. A lower one is stale: sent for an earlier incarnation of that node (a late
     * `hastate farewell`, a reordered datagram) and never a reason to move off a newer term;
     * the timeout still covers a primary that really left.
     */
    isPrimaryLeaving: ({ context, event }) => {
      assertEvent(event, 'PEER.LEAVING');
      if (event.peer.nodeId !== context.primaryId) return false;
      const heard = context.peers[event.peer.nodeId];
      return heard === undefined || event.peer.epoch >= heard.epoch;
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
    enterRole: enqueueActions(({ context, enqueue }, params: { role: Role }) => {
      const from = context.role;
      if (from === params.role) return;
      enqueue.assign({ role: params.role, roleChanges: context.roleChanges + 1 });
      const transition = transitionOf(context, params.role);
      enqueue.emit({ type: 'ROLE.CHANGED', transition });
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
      enqueue.emit({ type: 'ROLE.CHANGED', transition: transitionOf(next, 'standby') });
    }),
    /** Our primary fell silent but another one is live: follow it rather than take over. */
    followLivePrimary: enqueueActions(({ context, enqueue }) => {
      const peer = otherLivePrimary(context);
      if (peer === null) return;
      const next = { ...context, primaryId: peer.nodeId, epoch: Math.max(context.epoch, peer.epoch), reason: `our primary fell silent; following ${peer.nodeId}` };
      enqueue.assign({ primaryId: next.primaryId, epoch: next.epoch, reason: next.reason });
      enqueue.emit({ type: 'ROLE.CHANGED', transition: transitionOf(next, 'standby') });
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
      enqueue.emit({ type: 'ROLE.CHANGED', transition: transitionOf(next, next.role) });
      enqueue.sendTo('transport', { type: 'SEND', message: messageOf(next, 'heartbeat') } satisfies SendEvent);
    }),
    /**
     * Yielding: before we step down, declare the term we held, as a primary (transition actions
     * run before standby's entry, so context.role is still primary). The survivor may never have
     * heard us as primary (we yield on its first heartbeat after a heal, before our next one),
     * and our standby declaration cannot tell it our term when our epoch equals its own: a
     * follower declares the same number for the survivor's own term. A primary claim at an
     * epoch not below its own is a conflict the survivor already resolves by moving above it
     * (isPeerEpochNotBehind). Not sent when the survivor is already above our term; repeated
     * by redeclareYieldedTerm while it is lost.
     */
    declareYieldedTerm: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'PEER.PRIMARY');
      enqueue.assign({ yieldedEpoch: context.epoch });
      if (context.epoch < event.peer.epoch) return;
      enqueue.sendTo('transport', { type: 'SEND', message: yieldedTermMessage(context, context.epoch) } satisfies SendEvent);
    }),
    /**
     * Standby beat: the primary we follow holds the very epoch we held as primary, and so do
     * we, so neither our heartbeat nor a declaration (aheadOfOurPrimary) can tell it that ours
     * was another term: the claim declareYieldedTerm sent was lost, or it reached that number
     * afterwards. Claim the term again, once a beat, until the primary has moved above it.
     */
    redeclareYieldedTerm: enqueueActions(({ context, enqueue }) => {
      const primary = context.primaryId === null ? undefined : context.peers[context.primaryId];
      if (context.yieldedEpoch === 0 || primary === undefined || primary.role !== 'primary') return;
      if (primary.epoch !== context.yieldedEpoch || context.epoch !== context.yieldedEpoch) return;
      enqueue.sendTo('transport', { type: 'SEND', message: yieldedTermMessage(context, context.yieldedEpoch) } satisfies SendEvent);
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
});
