/**
 * Drives one service the way a node does (the same supervisor machine and runner), with role
 * transitions you choose: for testing a service's behaviour in each role and across a switch
 * on real sockets, without running an election.
 */
import pino, { type Logger } from 'pino';
import { createActor } from 'xstate';
import { serviceMachine, type RoleTransition } from '../../machines/service.machine.ts';
import { createServiceRunner } from '../services/runner.ts';
import type { Role, ServiceDefinition } from '../services/types.ts';

export interface ServiceHarness {
  /** Delivers a transition to `to`; epoch and primary default to the previous ones (self when primary). */
  role(to: Role, opts?: { epoch?: number; primaryId?: string | null; reason?: string }): RoleTransition;
  /** Supervisor state: running, or backing off after a failure. */
  state(): { value: string; failures: number; lastError: string | null };
  /** Stops the service and waits (bounded) for its stop hook. */
  stop(deadlineMs?: number): Promise<void>;
}

export function serviceHarness(definition: ServiceDefinition, opts: { nodeId?: string; log?: Logger } = {}): ServiceHarness {
  const nodeId = opts.nodeId ?? 'harness-node';
  const pendingStops = new Set<Promise<void>>();
  const machine = serviceMachine.provide({
    actors: { runService: createServiceRunner({ nodeId, log: opts.log ?? pino({ level: 'silent' }), pendingStops }) },
  });
  const actor = createActor(machine, { input: { name: definition.name, definition } });
  actor.start();
  let last: RoleTransition | null = null;
  return {
    role(to, o = {}) {
      const epoch = o.epoch ?? last?.epoch ?? 0;
      const primaryId = o.primaryId !== undefined ? o.primaryId : to === 'primary' ? nodeId : to === 'standby' ? (last?.primaryId ?? null) : null;
      const transition: RoleTransition = { from: last?.to ?? 'unknown', to, epoch, nodeId, primaryId, reason: o.reason ?? 'harness' };
      last = transition;
      actor.send({ type: 'ROLE.CHANGED', transition });
      return transition;
    },
    state() {
      const s = actor.getSnapshot();
      return { value: String(s.value), failures: s.context.failures, lastError: s.context.lastError };
    },
    async stop(deadlineMs = 2_000) {
      actor.stop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...pendingStops]), new Promise((r) => (timer = setTimeout(r, deadlineMs)))]);
      clearTimeout(timer);
    },
  };
}
