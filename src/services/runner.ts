/**
 * Runs one ServiceDefinition inside the supervisor machine's `runService` actor slot.
 * All user code is called through `guard()`: nothing a service throws or rejects can reach
 * XState or the event loop; it becomes a SERVICE.FAILED event and the supervisor restarts
 * the service with backoff.
 */
import { fromCallback } from 'xstate';
import type { Logger } from 'pino';
import type { RunnerInput, ServiceEvent } from '../../machines/service.machine.ts';
import type { RoleTransition, ServiceContext, ServiceDefinition } from './types.ts';
import { HastateError } from '../errors.ts';

export interface RunnerDeps {
  nodeId: string;
  log: Logger;
  /** Stop hooks in flight; the node awaits them (bounded) at shutdown. */
  pendingStops: Set<Promise<void>>;
  /**
   * Lease backends: false once the lease's renew deadline has passed on the monotonic clock,
   * even if the machine's timer has not run yet (a process resumed after a pause runs overdue
   * timers in due order, and a service's may come first). Omitted = always true.
   */
  leaseValid?: () => boolean;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createServiceRunner(deps: RunnerDeps) {
  return fromCallback<ServiceEvent, RunnerInput>(({ input, receive, sendBack }) => {
    const definition = input.definition as ServiceDefinition;
    const log = deps.log.child({ service: input.name });
    const abort = new AbortController();
    let current: RoleTransition | null = input.transition;
    const notPrimary = AbortSignal.abort(new HastateError('HASTATE_NOT_PRIMARY', 'not primary'));
    // Replaced on every entry into primary, aborted on every exit (and at stop).
    let primary: AbortController | null = null;
    const track = (t: RoleTransition | null) => {
      if (t?.to === 'primary') {
        if (primary === null || primary.signal.aborted) primary = new AbortController();
      } else if (primary !== null) {
        primary.abort(new HastateError('HASTATE_NOT_PRIMARY', `left primary: ${t === null ? 'stopped' : `now ${t.to}`}`));
        primary = null;
      }
    };
    track(current);
    let failed = false;
    let chain: Promise<void> = Promise.resolve();

    const fail = (error: unknown) => {
      if (failed || abort.signal.aborted) return;
      failed = true;
      log.error({ err: error instanceof Error ? error : undefined, restarts: input.restarts }, `service failed: ${message(error)}`);
      sendBack({ type: 'SERVICE.FAILED', message: message(error) });
    };

    const ctx: ServiceContext = {
      name: input.name,
      nodeId: deps.nodeId,
      log,
      signal: abort.signal,
      restarts: input.restarts,
      current: () => current,
      isPrimary: () => current?.to === 'primary' && (deps.leaseValid?.() ?? true),
      primarySignal: () => primary?.signal ?? notPrimary,
      fail,
    };

    // Hooks run one after another, so a service never sees two role changes at once.
    const enqueue = (step: () => void | Promise<void>) => {
      chain = chain.then(async () => {
        if (failed || abort.signal.aborted) return;
        try {
          await step();
        } catch (error) {
          fail(error);
        }
      });
    };

    enqueue(() => definition.start?.(ctx));
    if (current !== null) {
      const catchUp = current;
      enqueue(() => definition.onRoleChange?.(catchUp, ctx));
    }
    receive((event) => {
      if (event.type !== 'ROLE.CHANGED') return;
      current = event.transition;
      const t = event.transition;
      track(t);
      enqueue(() => definition.onRoleChange?.(t, ctx));
    });

    return () => {
      abort.abort();
      track(null);
      if (definition.stop === undefined) return;
      const stopping = chain
        .then(() => definition.stop?.(ctx))
        .catch((error) => log.warn({ err: error }, `service stop failed: ${message(error)}`))
        .finally(() => deps.pendingStops.delete(stopping));
      deps.pendingStops.add(stopping);
    };
  });
}
