/**
 * A statechart model as a diagram for the layout: every state a box (compound states hold
 * their children, parallel states one dashed box per region), a dot pointing at each initial
 * state, and every transition that changes state an edge labelled with its event and guard. Actions are
 * left to the Markdown table so the labels stay short; transitions without a target (actions
 * only) are there too.
 */
import type { DiagramEdge, DiagramNode } from './layout.ts';
import { allStates, type StateModel } from './model.ts';

/** The DOM id of a state's group: the live view highlights `state-<dotted path>`. */
export const stateId = (path: string) => `state-${path}`;
const machineId = (key: string) => `machine-${key}`;

function kindOf(state: StateModel, parent: StateModel | null): string {
  if (parent?.type === 'parallel') return 'region';
  if (state.type === 'parallel') return 'parallel';
  if (state.type === 'final') return 'final';
  return 'state';
}

function toNode(state: StateModel, parent: StateModel | null): DiagramNode {
  const children: DiagramNode[] = [];
  if (state.initial !== null) children.push({ id: `initial-${state.path || state.key}`, lines: [], kind: 'initial', children: [] });
  children.push(...state.children.map((c) => toNode(c, state)));
  return {
    id: parent === null ? machineId(state.key) : stateId(state.path),
    lines: [state.key, ...state.invokes.map((i) => `invokes ${i}`)],
    kind: parent === null ? 'machine' : kindOf(state, parent),
    children,
  };
}

/**
 * `EVENT [guard]`, the guard on lines of its own (one per `&&` term) so that long guards make
 * labels taller rather than the whole diagram wider.
 */
export function edgeLabel(event: string, guard: string | null): string {
  return guard ? `${event}\n[${guard.split(' && ').join('\n&& ')}]` : event;
}

export function statechartDiagram(root: StateModel): { root: DiagramNode; edges: DiagramEdge[] } {
  const edges: DiagramEdge[] = [];
  const idOf = (path: string) => (path === '' ? machineId(root.key) : stateId(path));
  for (const state of [root, ...allStates(root)]) {
    if (state.initial !== null) {
      edges.push({ id: `e${edges.length}`, source: `initial-${state.path || state.key}`, target: idOf(state.initial), label: '', kind: 'initial' });
    }
  }
  // Root-level transitions (handled in every state, e.g. FAULT) would be edges from the whole
  // machine box; they are listed in the Markdown table instead.
  for (const state of allStates(root)) {
    for (const t of state.transitions) {
      for (const target of t.targets) {
        edges.push({ id: `e${edges.length}`, source: stateId(state.path), target: idOf(target), label: edgeLabel(t.event, t.guard), kind: 'transition' });
      }
    }
  }
  return { root: toNode(root, null), edges };
}
