/**
 * The single backend (`ha.backend: single`, and `ha.enabled: false`, the seed design's "no HA"
 * setting): the role machine with a transport that is up at once and hears nobody, forced
 * primary. The node still makes its epoch durable before acting, like any primary.
 */
import { createActor, fromCallback } from 'xstate';
import type { Logger } from 'pino';
import { roleMachine, type SendEvent } from '../../machines/role.machine.ts';
import type { HastateConfig } from '../config/index.ts';
import { hostClock } from '../runtime/clock.ts';
import { TransportStats } from '../transport/stats.ts';
import { heartbeatTiming, type Backend } from './backend.ts';
import { electionOf } from './election.ts';

/** Up at once; sends go nowhere. */
const nobody = fromCallback<SendEvent, { nodeId: string }>(({ sendBack }) => {
  sendBack({ type: 'TRANSPORT.UP' });
});
/** Nobody else can be primary: silence is confirmed at once. */
const silence = fromCallback(({ sendBack }) => sendBack({ type: 'SILENCE.CONFIRMED' }));

export function createSingleBackend(config: HastateConfig, log: Logger): Backend {
  const ha = config.ha;
  const stats = new TransportStats();
  stats.up = true;
  return {
    name: 'single',
    stats,
    createElection({ persistEpoch, epoch, inspect }) {
      if (!ha.enabled) log.warn('ha.enabled is false: this node acts as primary without coordinating with any other node');
      else log.info('ha.backend is single: this node is always primary');
      const machine = roleMachine.provide({ actors: { transport: nobody, confirmSilence: silence, persistEpoch } });
      const actor = createActor(machine, {
        clock: hostClock,
        ...(inspect ? { inspect } : {}),
        input: { nodeId: ha.nodeId, priority: ha.priority, mode: 'primary', preempt: ha.preempt, timing: heartbeatTiming(ha), epoch },
      });
      return electionOf(actor);
    },
    actingAllowed: () => true,
    flush: () => Promise.resolve(),
    describe: () => ({ backend: 'single' }),
    transportStatus: () => ({ up: true, lastError: null, group: ha.multicastGroup, port: ha.heartbeat.port, interface: ha.interface }),
    timingStatus: () => heartbeatTiming(ha),
    peers: () => [],
  };
}
