/**
 * A plain description of an XState v5 machine, read from its definition at run time
 * (`machine.root`: state nodes, transitions, delays, invocations). Every renderer
 * (Mermaid, SVG) works from this model, so nothing is ever drawn by hand.
 */
import type { AnyStateMachine } from 'xstate';

export type StateKind = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
export type TransitionKind = 'event' | 'after' | 'always' | 'done' | 'error';

export interface TransitionModel {
  kind: TransitionKind;
  /** The event type as XState sees it (`xstate.after.heartbeatTimeout.role.standby...` for delays). */
  eventType: string;
  /** What a reader sees: `PEER.PRIMARY`, `after heartbeatTimeout`, `always`, `done confirmSilence`. */
  trigger: string;
  /** The named delay (or milliseconds) of an `after` transition. */
  delay?: string | number;
  /** Guard as written: `isStaleClaim`, `and(isPrimaryLeaving, not(isForcedStandby))`. */
  guard?: string;
  /** Target state paths (dot-joined from the root, '' for the root itself); empty when targetless. */
  targets: string[];
  /** Action names, parameters left out. */
  actions: string[];
  reenter: boolean;
}

export interface InvokeModel {
  src: string;
  /** The id given in the config, or null when XState generated one. */
  id: string | null;
}

export interface StateModel {
  key: string;
  /** Dot-joined path from the root without the machine id; '' for the root. */
  path: string;
  depth: number;
  type: StateKind;
  /** Key of the initial child of a compound state. */
  initial?: string;
  entry: string[];
  exit: string[];
  invoke: InvokeModel[];
  transitions: TransitionModel[];
  children: StateModel[];
}

export interface MachineModel {
  id: string;
  root: StateModel;
}

/** The slice of XState's StateNode this module reads; kept structural so it survives minor releases. */
interface NodeLike {
  key: string;
  path: string[];
  type: StateKind;
  config: Record<string, unknown>;
  states: Record<string, NodeLike>;
  initial?: { target?: NodeLike[] };
  invoke: { id: string; src: unknown }[];
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  after: { eventType: string; delay: string | number }[];
}

interface TransitionLike {
  eventType: string;
  guard?: unknown;
  target?: readonly NodeLike[];
  actions: readonly unknown[];
  reenter: boolean;
}

const toArray = <T>(value: T | readonly T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T];

/** The name of an action as it is referenced: a string, `{ type }`, or an inline function. */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') {
    const type = (action as { type?: unknown }).type;
    // Built-in action creators used inline (assign(...), sendTo(...)) carry `type: 'xstate.assign'`.
    if (typeof type === 'string') return type.replace(/^xstate\./, '');
    return action.name ? action.name : 'inline';
  }
  if (action !== null && typeof action === 'object' && typeof (action as { type?: unknown }).type === 'string') {
    return (action as { type: string }).type;
  }
  return 'inline';
}

/** A guard as written: names, `and(...)`, `or(...)`, `not(...)`, or `inline`. */
export function guardLabel(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const combined = (guard as { guards?: unknown[]; check?: unknown }).guards;
    if (Array.isArray(combined) && typeof (guard as { check?: unknown }).check === 'function') {
      return `${guard.name}(${combined.map(guardLabel).join(', ')})`;
    }
    return guard.name ? guard.name : 'inline';
  }
  if (guard !== null && typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return 'inline';
}

const pathOf = (node: NodeLike): string => node.path.join('.');

function transitionModel(node: NodeLike, t: TransitionLike, delays: Map<string, string | number>, invokes: Map<string, string>): TransitionModel {
  const { eventType } = t;
  let kind: TransitionKind = 'event';
  let trigger = eventType;
  let delay: string | number | undefined;
  if (delays.has(eventType)) {
    kind = 'after';
    delay = delays.get(eventType)!;
    trigger = `after ${typeof delay === 'number' ? `${delay}ms` : delay}`;
  } else if (eventType === '') {
    kind = 'always';
    trigger = 'always';
  } else if (eventType.startsWith('xstate.done.actor.')) {
    kind = 'done';
    const id = eventType.slice('xstate.done.actor.'.length);
    trigger = `done ${invokes.get(id) ?? id}`;
  } else if (eventType.startsWith('xstate.error.actor.')) {
    kind = 'error';
    const id = eventType.slice('xstate.error.actor.'.length);
    trigger = `error ${invokes.get(id) ?? id}`;
  } else if (eventType.startsWith('xstate.done.state.')) {
    kind = 'done';
    trigger = 'done';
  }
  const model: TransitionModel = {
    kind,
    eventType,
    trigger,
    targets: (t.target ?? []).map(pathOf),
    actions: t.actions.map(actionName),
    reenter: t.reenter,
  };
  if (delay !== undefined) model.delay = delay;
  if (t.guard !== undefined) model.guard = guardLabel(t.guard);
  void node;
  return model;
}

function stateModel(node: NodeLike): StateModel {
  const delays = new Map(node.after.map((a) => [a.eventType, a.delay] as const));
  const invokes = new Map(node.invoke.map((i) => [i.id, typeof i.src === 'string' ? i.src : 'inline'] as const));
  const configInvokes = toArray(node.config.invoke as { id?: string }[] | undefined);
  const transitions: TransitionModel[] = [];
  for (const list of node.transitions.values()) {
    for (const t of list) transitions.push(transitionModel(node, t, delays, invokes));
  }
  for (const t of node.always ?? []) transitions.push(transitionModel(node, t, delays, invokes));
  const model: StateModel = {
    key: node.key,
    path: pathOf(node),
    depth: node.path.length,
    type: node.type,
    // Read from the config: XState adds internal entry actions (the delayed raises behind `after`).
    entry: toArray(node.config.entry).map(actionName),
    exit: toArray(node.config.exit).map(actionName),
    invoke: node.invoke.map((i, n) => ({
      src: typeof i.src === 'string' ? i.src : 'inline',
      id: typeof configInvokes[n]?.id === 'string' ? configInvokes[n]!.id! : null,
    })),
    transitions,
    children: Object.values(node.states).map(stateModel),
  };
  const initial = node.initial?.target?.[0];
  if (node.type === 'compound' && initial) model.initial = initial.key;
  return model;
}

/** Describe a machine from its definition. */
export function describeMachine(machine: AnyStateMachine): MachineModel {
  const root = machine.root as unknown as NodeLike;
  return { id: machine.id, root: stateModel(root) };
}

/** Every state of a model, root first, in document order. */
export function allStates(model: MachineModel): StateModel[] {
  const out: StateModel[] = [];
  const walk = (s: StateModel) => {
    out.push(s);
    s.children.forEach(walk);
  };
  walk(model.root);
  return out;
}

/** `EVENT [guard] / action1, action2`. */
export function transitionLabel(t: TransitionModel): string {
  let label = t.trigger;
  if (t.guard !== undefined) label += ` [${t.guard}]`;
  if (t.actions.length > 0) label += ` / ${t.actions.join(', ')}`;
  return label;
}
