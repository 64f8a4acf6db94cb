import type { RoleEvent } from '../../machines/role.machine.ts';
import type { HaMessage } from './codec.ts';

/**
 * What a valid datagram means to the role machine. Heartbeats and declarations carry the
 * sender's role; an announcement, or a role of `unknown`, only says that the sender exists
 * and is electing.
 */
export function messageToEvent(m: HaMessage): RoleEvent {
  const peer = { nodeId: m.nodeId, priority: m.priority, role: m.role, epoch: m.epoch };
  if (m.type === 'announce' || m.role === 'unknown') return { type: 'PEER.ANNOUNCE', peer };
  return m.role === 'primary' ? { type: 'PEER.PRIMARY', peer } : { type: 'PEER.STANDBY', peer };
}
