/**
 * A running election machine, whichever it is (role.machine.ts or lease.machine.ts), seen
 * through what the node needs of it: the role and term it reports, its role transitions, and
 * the two commands a node gives (resign, fault). Both machines keep these context fields and
 * emit ROLE.CHANGED, so one wrapper serves every backend without casts.
 */
import type { StateValue } from 'xstate';
import { roleOfSnapshot, type Role, type RoleTag } from '../../machines/role.machine.ts';
import type { RoleChangedEvent } from '../../machines/service.machine.ts';

/** The context fields both election machines keep. */
export interface ElectionContext {
  role: Role;
  epoch: number;
  primaryId: string | null;
  reason: string;
  roleChanges: number;
  /** Role machine only: the highest epoch heard from any peer. */
  maxSeenEpoch?: number;
}

/** What the node reads of the election, from its latest snapshot. */
export interface ElectionView {
  role: Role;
  epoch: number;
  /** The highest epoch this node knows of (its own or one heard): made durable in the background. */
  knownEpoch: number;
  primaryId: string | null;
  reason: string;
  roleChanges: number;
  /** Active leaf state paths (`standby.watch.watching`), for the live view. */
  statePaths: string[];
}

/** The part of an XState actor of either election machine that the wrapper uses. */
export interface ElectionActor<TContext extends ElectionContext = ElectionContext> {
  start(): unknown;
  stop(): unknown;
  send(event: { type: 'RESIGN' } | { type: 'FAULT'; reason: string }): void;
  getSnapshot(): { value: StateValue; context: TContext; hasTag(tag: RoleTag): boolean };
  subscribe(observer: { next: (snapshot: { value: StateValue; context: TContext; hasTag(tag: RoleTag): boolean }) => void; error: (error: unknown) => void }): { unsubscribe(): void };
  on(type: 'ROLE.CHANGED', handler: (event: RoleChangedEvent) => void): { unsubscribe(): void };
}

export interface Election<TContext extends ElectionContext = ElectionContext> {
  start(): void;
  stop(): void;
  view(): ElectionView;
  /** The machine's own context, for the backend that built it (peers, lease timing). */
  context(): TContext;
  /**
   * Every new snapshot, as a view without `statePaths` (only status reads those, and this runs
   * on every heartbeat). Returns the unsubscribe function.
   */
  onSnapshot(next: (view: Omit<ElectionView, 'statePaths'>) => void, error: (error: unknown) => void): () => void;
  /** Every role transition the machine emits, in order: what the services are told. */
  onRoleChanged(listener: (event: RoleChangedEvent) => void): () => void;
  /** A primary hands over at once; otherwise nothing. */
  resign(): void;
  /** This node must not take part: role unknown until the backend reports up again. */
  fault(reason: string): void;
}

/** `{ standby: { watch: 'watching' } }` -> `['standby.watch.watching']` */
function leafPaths(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  return Object.entries(value).flatMap(([k, v]) => (v === undefined ? [prefix + k] : leafPaths(v, `${prefix}${k}.`)));
}

function viewOf(snapshot: { context: ElectionContext; hasTag(tag: RoleTag): boolean }): Omit<ElectionView, 'statePaths'> {
  const c = snapshot.context;
  return {
    role: roleOfSnapshot(snapshot),
    epoch: c.epoch,
    knownEpoch: Math.max(c.epoch, c.maxSeenEpoch ?? 0),
    primaryId: c.primaryId,
    reason: c.reason,
    roleChanges: c.roleChanges,
  };
}

export function electionOf<TContext extends ElectionContext>(actor: ElectionActor<TContext>): Election<TContext> {
  return {
    start: () => void actor.start(),
    stop: () => void actor.stop(),
    view: () => {
      const snapshot = actor.getSnapshot();
      return { ...viewOf(snapshot), statePaths: leafPaths(snapshot.value) };
    },
    context: () => actor.getSnapshot().context,
    onSnapshot(next, error) {
      const subscription = actor.subscribe({ next: (snapshot) => next(viewOf(snapshot)), error });
      return () => subscription.unsubscribe();
    },
    onRoleChanged(listener) {
      const subscription = actor.on('ROLE.CHANGED', listener);
      return () => subscription.unsubscribe();
    },
    resign: () => actor.send({ type: 'RESIGN' }),
    fault: (reason) => actor.send({ type: 'FAULT', reason }),
  };
}
