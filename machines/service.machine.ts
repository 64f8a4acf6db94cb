/**
 * Supervisor for one business service. Every service runs on every node in every role
 * (seed design, section 2.2); this machine keeps it running: it invokes the service's
 * runner, forwards role transitions to it, and restarts it with capped exponential
 * backoff when it fails, so one broken service never takes the node down.
 *
 * Pure: imports only xstate and backoff.ts. The runner is supplied from src/services with `provide()`.
 */
import { assign, fromCallback, sendTo, setup } from 'xstate';
import { restartDelayMs } from './backoff.ts';

export type Role = 'unknown' | 'electing' | 'primary' | 'standby';

export interface RoleTransition {
  from: Role;
  to: Role;
  /** Election term; strictly greater for every new primary term this node learns of. */
  epoch: number;
  nodeId: string;
  primaryId: string | null;
  /** Why the change happened, in words, for logs and hooks. */
  reason: string;
}

/**
 * What both election machines emit on every role change, and on a new primary or term seen as
 * standby (a standby -> standby transition): the services machine delivers it to each service.
 */
export interface RoleChangedEvent {
  type: 'ROLE.CHANGED';
  transition: RoleTransition;
}

export interface ServiceInput {
  name: string;
  /** The user's service definition; opaque to the machine, interpreted by the runner. */
  definition: unknown;
  /** First restart delay and the cap, in milliseconds. */
  restartBaseMs?: number;
  restartMaxMs?: number;
  /** Running this long without failing resets the backoff. */
  stableAfterMs?: number;
}

export type ServiceEvent =
  | { type: 'ROLE.CHANGED'; transition: RoleTransition }
  | { type: 'SERVICE.FAILED'; message: string }
  | { type: 'SERVICE.STARTED' };

export interface ServiceContext {
  name: string;
  definition: unknown;
  transition: RoleTransition | null;
  failures: number;
  restarts: number;
  lastError: string | null;
  restartBaseMs: number;
  restartMaxMs: number;
  stableAfterMs: number;
}

export interface RunnerInput {
  name: string;
  definition: unknown;
  transition: RoleTransition | null;
  restarts: number;
}

export const serviceMachine = setup({
  types: {
    context: {} as ServiceContext,
    events: {} as ServiceEvent,
    input: {} as ServiceInput,
  },
  actors: {
    // Stand-in so the machine runs as it is in the visualizer; src/services supplies the real runner.
    runService: fromCallback<ServiceEvent, RunnerInput>(() => () => {}),
  },
  actions: {
    rememberTransition: assign({
      transition: ({ event, context }) => (event.type === 'ROLE.CHANGED' ? event.transition : context.transition),
    }),
    forwardToRunner: sendTo('runner', ({ event }) => event),
    recordFailure: assign({
      failures: ({ context }) => context.failures + 1,
      lastError: ({ event, context }) => (event.type === 'SERVICE.FAILED' ? event.message : context.lastError),
    }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
    forgetFailures: assign({ failures: 0 }),
  },
  delays: {
    restartBackoff: ({ context }) => restartDelayMs(context.failures, context.restartBaseMs, context.restartMaxMs),
    stableAfter: ({ context }) => context.stableAfterMs,
  },
}).createMachine({
  id: 'service',
  context: ({ input }) => ({
    name: input.name,
    definition: input.definition,
    transition: null,
    failures: 0,
    restarts: 0,
    lastError: null,
    restartBaseMs: input.restartBaseMs ?? 100,
    restartMaxMs: input.restartMaxMs ?? 30_000,
    stableAfterMs: input.stableAfterMs ?? 60_000,
  }),
  initial: 'running',
  on: {
    'ROLE.CHANGED': { actions: 'rememberTransition' },
  },
  states: {
    running: {
      invoke: {
        id: 'runner',
        src: 'runService',
        input: ({ context }) => ({
          name: context.name,
          definition: context.definition,
          transition: context.transition,
          restarts: context.restarts,
        }),
      },
      after: { stableAfter: { actions: 'forgetFailures' } },
      on: {
        'ROLE.CHANGED': { actions: ['rememberTransition', 'forwardToRunner'] },
        'SERVICE.FAILED': { target: 'backingOff', actions: 'recordFailure' },
      },
    },
    backingOff: {
      after: { restartBackoff: { target: 'running', actions: 'countRestart' } },
    },
  },
});
