/**
 * A backend over a coordinator that grants a lease (Redis, etcd; ZooKeeper would be another):
 * the lease machine with the coordinator's actor supplied. A coordinator only has to implement
 * `Coordinator` (coordinator.ts); everything else a node needs is here, once.
 */
import { createActor } from 'xstate';
import type { Logger } from 'pino';
import { leaseMachine } from '../../machines/lease.machine.ts';
import type { HastateConfig } from '../config/index.ts';
import { hostClock, monotonicMs } from '../runtime/clock.ts';
import { heartbeatTiming, type Backend, type BackendName } from './backend.ts';
import type { Coordinator } from './coordinator.ts';
import { electionOf } from './election.ts';

export function createLeaseBackend(name: BackendName, coordinator: Coordinator, config: HastateConfig, log: Logger): Backend {
  const ha = config.ha;
  const { stats } = coordinator;
  return {
    name,
    stats,
    createElection({ persistEpoch, epoch, inspect }) {
      if (ha.priority !== 0 || ha.preempt) {
        log.warn({ priority: ha.priority, preempt: ha.preempt }, `ha.priority and ha.preempt have no effect with ha.backend ${name}: the lease goes to whichever node campaigns first`);
      }
      const machine = leaseMachine.provide({ actors: { coordinator: coordinator.coordinator, persistEpoch } });
      const actor = createActor(machine, {
        clock: hostClock,
        ...(inspect ? { inspect } : {}),
        input: { nodeId: ha.nodeId, timing: ha.lease, mode: ha.role === 'standby' ? 'standby' : 'auto', epoch },
      });
      return electionOf(actor);
    },
    actingAllowed: () => monotonicMs() < coordinator.leaseValidUntilMs(),
    flush: (timeoutMs) => coordinator.flush(timeoutMs),
    describe: () => ({ ...coordinator.describe(), lease: ha.lease }),
    transportStatus: () => ({ up: stats.up, lastError: stats.lastError, group: '', port: 0, interface: '', coordinator: coordinator.describe() }),
    timingStatus: () => ({ ...heartbeatTiming(ha), lease: { ...ha.lease } }),
    // The registry's members, as the coordinator last listed them: a member whose registration expired has left it.
    peers: (nowMs) =>
      [...stats.peers.values()].map((p) => ({ nodeId: p.nodeId, role: p.role, priority: p.priority, epoch: p.epoch, address: p.address, lastSeenAgeMs: Math.round(nowMs - p.lastSeenMs) })),
  };
}
