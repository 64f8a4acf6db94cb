/**
 * The node's services, supervised in one place. Every business service runs on every node in
 * every role (seed design, section 2.2); this machine spawns one `service` supervisor
 * (service.machine.ts) per user service and delivers to each, in order, every role transition
 * the election machine emits (`ROLE.CHANGED`). The election machines know nothing of services:
 * they decide roles, this machine tells the services.
 *
 * Pure: imports only xstate and service.machine.ts. The runner each supervisor invokes is
 * supplied from src/services with `provide()`.
 */
import { assertEvent, assign, enqueueActions, setup } from 'xstate';
import { serviceMachine, type RoleChangedEvent, type RoleTransition } from './service.machine.ts';

/** One user service: its name (unique on the node) and its definition, opaque here. */
export interface ServiceSpec {
  name: string;
  definition: unknown;
}

export interface ServicesInput {
  services: readonly ServiceSpec[];
}

export interface ServicesContext {
  services: readonly ServiceSpec[];
  /** The last transition delivered: what a reader (status, a test) sees the services were told. */
  last: RoleTransition | null;
  delivered: number;
}

/** The child id of a service's supervisor: status reads a service's restarts and failures there. */
export const serviceChildId = (name: string): string => `service:${name}`;

export const servicesMachine = setup({
  types: {
    context: {} as ServicesContext,
    events: {} as RoleChangedEvent,
    input: {} as ServicesInput,
  },
  actors: {
    service: serviceMachine,
  },
  actions: {
    spawnServices: enqueueActions(({ context, enqueue }) => {
      for (const spec of context.services) {
        enqueue.spawnChild('service', { id: serviceChildId(spec.name), input: { name: spec.name, definition: spec.definition } });
      }
    }),
    noteTransition: assign(({ context, event }) => {
      assertEvent(event, 'ROLE.CHANGED');
      return { last: event.transition, delivered: context.delivered + 1 };
    }),
    deliver: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'ROLE.CHANGED');
      for (const spec of context.services) enqueue.sendTo(serviceChildId(spec.name), event);
    }),
  },
}).createMachine({
  id: 'services',
  description: 'Supervises the business services: one child per service, restarted with backoff when it fails; every role transition goes to each of them.',
  context: ({ input }) => ({ services: input.services, last: null, delivered: 0 }),
  entry: 'spawnServices',
  initial: 'supervising',
  states: {
    supervising: {
      description: 'Delivers each role transition the election emits to every service, in the order emitted.',
      on: {
        'ROLE.CHANGED': { actions: ['noteTransition', 'deliver'], description: 'A role change (or a new primary or term seen as standby): tell every service.' },
      },
    },
  },
});

export type ServicesMachine = typeof servicesMachine;
