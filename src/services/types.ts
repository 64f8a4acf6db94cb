/**
 * The public service API. A service is code that runs on every node in every role (seed
 * design, section 2.2) and decides for itself what to do in each role: a standby keeps its
 * sockets and caches warm and skips primary-only work, so a takeover needs no start-up.
 *
 * Each service runs as a child actor of the node, supervised: an exception thrown from any
 * hook, or reported with `ctx.fail()`, stops that instance and starts a fresh one after a
 * capped exponential backoff. The node and the other services are not affected.
 */
import type { Logger } from 'pino';
import type { Role, RoleTransition } from '../../machines/service.machine.ts';
import { apiMisuse } from '../assert.ts';

export type { Role, RoleTransition };

export interface ServiceContext {
  readonly name: string;
  readonly nodeId: string;
  readonly log: Logger;
  /** Aborted when this instance stops (node shutdown, or restart after a failure). */
  readonly signal: AbortSignal;
  /** How many times this service has been restarted after failures. */
  readonly restarts: number;
  /** The latest transition delivered to this instance, or null before the first. */
  current(): RoleTransition | null;
  /**
   * True while the node is primary, per the latest transition delivered; with a lease backend
   * (redis, etcd) also only while the lease's renew deadline has not passed on the monotonic
   * clock, so a process resumed from a pause does not act before its timers have run.
   */
  isPrimary(): boolean;
  /**
   * Aborted the moment this node stops being primary: synchronously when the transition
   * arrives, before any queued hook runs and before the node reports its new role. Pass it
   * to primary-only work so that work is cancelled, not merely ignored. Already aborted while
   * the node is not primary, and when the instance stops.
   */
  primarySignal(): AbortSignal;
  /** Report a failure from background work; the supervisor restarts the service. */
  fail(error: unknown): void;
}

export interface ServiceDefinition {
  /** Unique within a node; letters, digits, `-`, `_`, `.`; at most 64 characters. */
  readonly name: string;
  /** Acquire resources. Runs before the first role change is delivered. */
  start?(ctx: ServiceContext): void | Promise<void>;
  /**
   * Called for every role change, in order, never concurrently with another call for the
   * same instance. `from === to` means only the epoch changed (a new term): fence with it.
   * A restarted instance first receives the node's current state as a transition.
   */
  onRoleChange?(transition: RoleTransition, ctx: ServiceContext): void | Promise<void>;
  /** Release resources. Bounded by the node's shutdown deadline. */
  stop?(ctx: ServiceContext): void | Promise<void>;
  /** Extra fields for this service's entry in GET /status. Must not throw. */
  status?(): Record<string, unknown>;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Checks a definition up front so mistakes surface at start-up, not at the first failover. */
export function defineService<T extends ServiceDefinition>(definition: T): T {
  if (!NAME.test(definition.name)) {
    throw apiMisuse(`service name ${JSON.stringify(definition.name)}: use 1-64 letters, digits, '-', '_' or '.'`, TypeError);
  }
  for (const hook of ['start', 'onRoleChange', 'stop', 'status'] as const) {
    const fn = definition[hook];
    if (fn !== undefined && typeof fn !== 'function') throw apiMisuse(`service ${definition.name}: ${hook} must be a function`, TypeError);
  }
  return definition;
}
