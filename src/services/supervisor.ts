/**
 * The node's services actor: the services machine (machines/services.machine.ts) with the
 * real runner supplied. HaNode and the simulator build it the same way, then feed it the
 * election machine's ROLE.CHANGED events.
 */
import { createActor, type Actor, type ActorOptions, type AnyActorLogic } from 'xstate';
import { serviceMachine } from '../../machines/service.machine.ts';
import { servicesMachine } from '../../machines/services.machine.ts';
import { createServiceRunner, type RunnerDeps } from './runner.ts';
import type { ServiceDefinition } from './types.ts';

export type ServicesActor = Actor<typeof servicesMachine>;

export interface ServicesOptions {
  definitions: readonly ServiceDefinition[];
  runner: RunnerDeps;
  /** The clock of restart backoff; default the host's timers (the simulator passes its own). */
  clock?: ActorOptions<AnyActorLogic>['clock'];
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
}

/** Created, not started: start it before the election so that it hears the first transition. */
export function createServicesActor(opts: ServicesOptions): ServicesActor {
  const service = serviceMachine.provide({ actors: { runService: createServiceRunner(opts.runner) } });
  return createActor(servicesMachine.provide({ actors: { service } }), {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.inspect ? { inspect: opts.inspect } : {}),
    input: { services: opts.definitions.map((definition) => ({ name: definition.name, definition })) },
  });
}
