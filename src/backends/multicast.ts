/**
 * The multicast backend: the role machine over UDP multicast heartbeats (seed design 000).
 * The machine's peer table is the one source of truth for who is alive; the transport's table
 * only adds where each peer was last heard from and when.
 */
import { createActor } from 'xstate';
import type { Logger } from 'pino';
import { roleMachine } from '../../machines/role.machine.ts';
import type { HastateConfig } from '../config/index.ts';
import { createMulticastTransport } from '../transport/multicast.ts';
import { hostClock } from '../runtime/clock.ts';
import type { PeerStatus } from '../runtime/status.ts';
import { heartbeatTiming, type Backend } from './backend.ts';
import { electionOf, type Election } from './election.ts';
import type { RoleContext } from '../../machines/role-types.ts';

export function createMulticastBackend(config: HastateConfig, log: Logger): Backend {
  const ha = config.ha;
  const net = createMulticastTransport({
    group: ha.multicastGroup,
    port: ha.heartbeat.port,
    interfaceAddress: ha.interface,
    nodeId: ha.nodeId,
    log,
    auth: { mode: ha.auth.mode, keyring: ha.auth.keys, keyId: ha.auth.keyId, freshnessWindowMs: ha.auth.freshnessWindowMs },
  });
  let election: Election<RoleContext> | null = null;
  return {
    name: 'multicast',
    stats: net.stats,
    createElection({ persistEpoch, epoch, inspect }) {
      const machine = roleMachine.provide({ actors: { transport: net.transport, confirmSilence: net.confirmSilence, persistEpoch } });
      const actor = createActor(machine, {
        clock: hostClock,
        ...(inspect ? { inspect } : {}),
        input: {
          nodeId: ha.nodeId,
          priority: ha.priority,
          mode: ha.role,
          preempt: ha.preempt,
          timing: heartbeatTiming(ha),
          epoch,
        },
      });
      election = electionOf(actor);
      return election;
    },
    actingAllowed: () => true,
    flush: (timeoutMs) => net.flush(timeoutMs),
    describe: () => ({ backend: 'multicast', group: ha.multicastGroup, port: ha.heartbeat.port, auth: ha.auth.mode, authKeyIds: ha.auth.keys?.ids ?? [] }),
    transportStatus: () => ({ up: net.stats.up, lastError: net.stats.lastError, group: ha.multicastGroup, port: ha.heartbeat.port, interface: ha.interface }),
    timingStatus: () => heartbeatTiming(ha),
    peers: (nowMs) => (election === null ? [] : livePeers(election.context(), net.stats.peers, nowMs)),
  };
}

/**
 * The peers the role machine still counts (it forgets one after a heartbeat timeout of
 * silence, or all of them when the transport goes down), with where and when the transport
 * last heard each. Transport records of peers the machine forgot are dropped here, so a dead
 * peer leaves status, metrics and the live view together.
 */
export function livePeers(context: Pick<RoleContext, 'peers' | 'timing'>, heard: Map<string, { address: string; lastSeenMs: number }>, nowMs: number): PeerStatus[] {
  for (const id of heard.keys()) if (!(id in context.peers)) heard.delete(id);
  return Object.values(context.peers).map((p) => {
    const record = heard.get(p.nodeId);
    return {
      nodeId: p.nodeId,
      role: p.role,
      priority: p.priority,
      epoch: p.epoch,
      address: record?.address ?? '',
      // Without a transport record (never happens on the real path), the machine's tick count bounds the age.
      lastSeenAgeMs: Math.round(record !== undefined ? nowMs - record.lastSeenMs : p.silentTicks * context.timing.heartbeatIntervalMs),
    };
  });
}
