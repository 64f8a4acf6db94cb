/**
 * Reads an XState v5 machine's definition at run time into a small model for the diagram
 * writers. Everything drawn comes from here: nothing about a machine is written by hand.
 */
import type { AnyStateMachine } from 'xstate';

export interface TransitionModel {
  /** Event type, or `after <delay>` for delayed transitions. */
  event: string;
  /** Target state paths (dot-joined, without the machine id); empty for internal transitions. */
  targets: string[];
  guard: string | null;
  actions: string[];
  reenter: boolean;
}

export interface StateModel {
  key: string;
  path: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial: string | null;
  invokes: string[];
  entry: string[];
  transitions: TransitionModel[];
  children: StateModel[];
}

type Anything = Record<string, any>; // XState's internal node types are not exported; read them loosely.

function nameOfGuard(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  const g = guard as Anything;
  if (typeof g.type === 'string' && !g.type.startsWith('xstate.')) return g.params ? `${g.type}(${JSON.stringify(g.params)})` : g.type;
  const parts = (g.guards ?? g.params?.guards ?? []) as unknown[];
  const kind = String(g.type ?? g.name ?? '');
  if (Array.isArray(parts) && parts.length > 0) {
    const names = parts.map((p) => nameOfGuard(p) ?? '?');
    if (kind.includes('not') || g.check?.name === 'not') return `!${names[0]}`;
    return names.join(kind.includes('or') ? ' || ' : ' && ');
  }
  return kind || 'inline';
}

function nameOfAction(action: unknown): string {
  if (typeof action === 'string') return action;
  const a = action as Anything;
  return String(a.type ?? a.name ?? 'inline');
}

const pathOf = (node: Anything) => (node.path as string[]).join('.');

function eventLabel(event: string): string {
  const m = /^xstate\.after\.([^.]+)\./.exec(event);
  return m ? `after ${m[1]}` : event;
}

function readNode(node: Anything): StateModel {
  const transitions: TransitionModel[] = [];
  for (const [event, list] of node.transitions as Map<string, Anything[]>) {
    for (const t of list) {
      transitions.push({
        event: eventLabel(event),
        targets: ((t.target ?? []) as Anything[]).map(pathOf),
        guard: nameOfGuard(t.guard),
        actions: ((t.actions ?? []) as unknown[]).map(nameOfAction),
        reenter: Boolean(t.reenter),
      });
    }
  }
  for (const t of (node.always ?? []) as Anything[]) {
    transitions.push({ event: 'always', targets: ((t.target ?? []) as Anything[]).map(pathOf), guard: nameOfGuard(t.guard), actions: ((t.actions ?? []) as unknown[]).map(nameOfAction), reenter: false });
  }
  const initialTargets = (node.initial?.target ?? []) as Anything[];
  return {
    key: node.key,
    path: pathOf(node),
    type: node.type,
    initial: initialTargets.length > 0 ? pathOf(initialTargets[0]!) : null,
    invokes: ((node.invoke ?? []) as Anything[]).map((i) => String(typeof i.src === 'string' ? i.src : i.id)),
    // Delayed transitions add built-in raise/cancel entry actions that schedule them; not user actions.
    entry: ((node.entry ?? []) as unknown[]).map(nameOfAction).filter((a) => a !== 'xstate.raise' && a !== 'xstate.cancel'),
    transitions,
    children: Object.values(node.states as Record<string, Anything>).map(readNode),
  };
}

export function readMachine(machine: AnyStateMachine): StateModel {
  return readNode(machine.root);
}

/** Every state below the root, depth first. */
export function allStates(root: StateModel): StateModel[] {
  return root.children.flatMap((c) => [c, ...allStates(c)]);
}

export function transitionLabel(t: TransitionModel): string {
  const guard = t.guard ? ` [${t.guard}]` : '';
  const actions = t.actions.length > 0 ? ` / ${[...new Set(t.actions)].join(', ')}` : '';
  return `${t.event}${guard}${actions}`;
}
