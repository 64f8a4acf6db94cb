import { LEAVING_PRIORITY, type RoleEvent } from '../../machines/role.machine.ts';
import type { HaMessage } from './codec.ts';

/**
 * What a valid datagram means to the role machine. Heartbeats and declarations carry the
 * sender's role. An announcement opens an election and asks for answers; a heartbeat or
 * declaration with role `unknown` is such an answer from a node that is electing itself.
 */
export function messageToEvent(m: HaMessage): RoleEvent {
  const peer = { nodeId: m.nodeId, priority: m.priority, role: m.role, epoch: m.epoch, ...(m.type === 'declaration' ? { declared: true } : {}) };
  if (m.type === 'announce') return { type: 'PEER.ANNOUNCE', peer };
  if (m.role === 'unknown') return { type: 'PEER.ELECTING', peer };
  if (m.type === 'declaration' && m.role === 'standby' && m.priority === LEAVING_PRIORITY) return { type: 'PEER.LEAVING', peer };
  return m.role === 'primary' ? { type: 'PEER.PRIMARY', peer } : { type: 'PEER.STANDBY', peer };
}
