/**
 * The role a snapshot of either election machine (role.machine.ts, lease.machine.ts) stands
 * for, read from state tags rather than from the shape of the state value: a state's tag names
 * its role, so readers do not depend on how the states are nested or named.
 */
import type { Role } from './service.machine.ts';

/**
 * `claiming` is not a role: a node that won but has not made its epoch durable yet still has
 * the role it came from (context.role), which a static tag cannot name.
 */
export type RoleTag = Role | 'claiming';

/** The part of a snapshot of either machine that the role is read from. */
export interface RoleSnapshot {
  hasTag(tag: RoleTag): boolean;
  context: { role: Role };
}

const ROLE_TAGS: readonly Role[] = ['primary', 'standby', 'electing', 'unknown'];

/** The role a snapshot reports: the role its tag names, or while claiming the role it came from. */
export function roleOfSnapshot(snapshot: RoleSnapshot): Role {
  if (snapshot.hasTag('claiming')) return snapshot.context.role;
  const role = ROLE_TAGS.find((tag) => snapshot.hasTag(tag));
  if (role === undefined) throw new Error('the snapshot is in no state tagged with a role');
  return role;
}
