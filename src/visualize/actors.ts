/**
 * The actor tree of a running node, as a diagram: who owns whom, from `hastate run` down to
 * each service's runner. The structure below the election machines is read from the machines
 * themselves (the actors named in `setup({ actors })`, and the states that invoke them), so an
 * actor added to a machine appears after `npm run visualize`; what the code around them does
 * (which file supplies each actor, who listens to role changes) is declared here, and the
 * generator refuses an actor it has no declaration for rather than guessing.
 */
import type { AnyStateMachine } from 'xstate';
import { leaseMachine } from '../../machines/lease.machine.ts';
import { roleMachine } from '../../machines/role.machine.ts';
import { servicesMachine } from '../../machines/services.machine.ts';
import type { DiagramEdge, DiagramNode } from './layout.ts';
import { allStates, readMachine } from './model.ts';
import { internalBug } from '../assert.ts';

/** Where the real implementation of each machine actor comes from (the machines hold stand-ins). */
export const ACTOR_SUPPLIERS: Record<string, { file: string; does: string }> = {
  transport: { file: 'src/backends/multicast.ts, single.ts', does: 'UDP multicast: heartbeats in and out (single: none)' },
  confirmSilence: { file: 'src/backends/multicast.ts, single.ts', does: 'asks peers once more before a takeover' },
  coordinator: { file: 'src/backends/coordinator.ts', does: 'the lease: campaign, renew, observe the leader (one Coordinator per lease backend)' },
  persistEpoch: { file: 'src/runtime/epoch-recorder.ts', does: 'writes the epoch to the state file first' },
  service: { file: 'machines/service.machine.ts', does: 'one per configured service' },
  runService: { file: 'src/services/runner.ts', does: "runs the service's start/stop" },
};

/** The election machines a node runs, by the `ha.backend` values that choose them. */
export const ELECTION_MACHINES: { name: string; file: string; backends: string; machine: AnyStateMachine }[] = [
  { name: 'role machine', file: 'machines/role.machine.ts', backends: 'ha.backend multicast | single', machine: roleMachine },
  { name: 'lease machine', file: 'machines/lease.machine.ts', backends: 'ha.backend redis | etcd', machine: leaseMachine },
];

/** What sits around the machines, outside xstate: declared, since no machine knows about it. */
const RUNTIME: { id: string; lines: string[]; kind: string }[] = [
  { id: 'run', lines: ['hastate run', 'src/cli/run-command.ts'], kind: 'object' },
  { id: 'node', lines: ['HaNode', 'src/runtime/node.ts'], kind: 'object' },
  { id: 'notify', lines: ['notify hooks', 'src/runtime/notify.ts'], kind: 'object' },
  { id: 'status', lines: ['status server', 'src/services/status-server.ts'], kind: 'object' },
];
const RUNTIME_EDGES: Omit<DiagramEdge, 'id'>[] = [
  { source: 'run', target: 'node', label: 'creates, starts, stops', kind: 'owns' },
  { source: 'run', target: 'notify', label: 'creates', kind: 'owns' },
  { source: 'run', target: 'status', label: 'serves', kind: 'owns' },
  { source: 'node', target: 'notify', label: 'role changes', kind: 'events' },
  { source: 'node', target: 'status', label: 'status, role changes', kind: 'events' },
];

const isMachine = (logic: unknown): logic is AnyStateMachine => typeof logic === 'object' && logic !== null && 'root' in logic && 'implementations' in logic;

/** How `machine` starts actor `name`: the states that invoke it, or spawned by an action. */
function howStarted(machine: AnyStateMachine, name: string): string {
  const model = readMachine(machine);
  const states = [model, ...allStates(model)].filter((s) => s.invokes.includes(name)).map((s) => s.path || 'for its whole life');
  return states.length > 0 ? `invoked: ${states.join(', ')}` : 'spawned';
}

export function actorTreeDiagram(machines = ELECTION_MACHINES): { root: DiagramNode; edges: DiagramEdge[] } {
  const nodes: DiagramNode[] = RUNTIME.map((r) => ({ ...r, children: [] }));
  const edges: DiagramEdge[] = RUNTIME_EDGES.map((e, i) => ({ ...e, id: `r${i}` }));
  const seen = new Set<string>();
  const addActors = (parentId: string, machine: AnyStateMachine) => {
    for (const [name, logic] of Object.entries(machine.implementations.actors)) {
      const supplier = ACTOR_SUPPLIERS[name];
      if (supplier === undefined) throw internalBug(`actor tree: machine actor "${name}" (in ${machine.id}) has no entry in ACTOR_SUPPLIERS in src/visualize/actors.ts`);
      const id = name;
      edges.push({ id: `a${edges.length}`, source: parentId, target: id, label: howStarted(machine, name), kind: 'owns' });
      // Both election machines use the same persistEpoch: one box, two parents.
      if (seen.has(id)) continue;
      seen.add(id);
      nodes.push({ id, lines: [name, supplier.file, supplier.does], kind: 'actor', children: [] });
      if (isMachine(logic)) addActors(id, logic);
    }
  };
  // The services machine: one per node whatever the backend; it hears the election's emitted transitions.
  const services = servicesMachine.id;
  nodes.push({ id: services, lines: ['services machine', 'machines/services.machine.ts'], kind: 'actor', children: [] });
  edges.push({ id: `s${edges.length}`, source: 'node', target: services, label: 'creates, starts first', kind: 'owns' });
  addActors(services, servicesMachine);
  for (const m of machines) {
    const id = m.machine.id;
    nodes.push({ id, lines: [m.name, m.file], kind: 'actor', children: [] });
    edges.push({ id: `m${edges.length}`, source: 'node', target: id, label: `${m.backends} (backend's createElection)`, kind: 'owns' });
    edges.push({ id: `e${edges.length}`, source: id, target: services, label: 'emits ROLE.CHANGED', kind: 'events' });
    addActors(id, m.machine);
  }
  return { root: { id: 'actors', lines: ['actor tree of a node'], kind: 'machine', children: nodes }, edges };
}

const mid = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
const mtext = (s: string) => s.replace(/"/g, "'");

/** A Mermaid flowchart of the same tree. */
export function actorTreeMermaid(tree: { root: DiagramNode; edges: DiagramEdge[] }): string {
  const lines = ['flowchart TD'];
  for (const node of tree.root.children) lines.push(`  ${mid(node.id)}["${node.lines.map(mtext).join('<br/>')}"]`);
  for (const e of tree.edges) lines.push(`  ${mid(e.source)} ${e.kind === 'events' ? '-.->' : '-->'}|"${mtext(e.label)}"| ${mid(e.target)}`);
  return `${lines.join('\n')}\n`;
}

export function actorTreeMarkdown(tree: { root: DiagramNode; edges: DiagramEdge[] }, mermaid: string): string {
  return [
    '# The actor tree of a node',
    '',
    'Generated by `npm run visualize` from the machines (the actors named in their `setup()`, and',
    'the states that invoke them) and the declarations in `src/visualize/actors.ts`; do not edit.',
    'Solid arrows: creates or runs the child; dashed: listens to its events. One election machine',
    'runs per node, chosen by `ha.backend`. Each machine holds stand-ins for its actors; the file',
    'named under each actor supplies the real one with `machine.provide()`.',
    '',
    '```mermaid',
    mermaid.trimEnd(),
    '```',
    '',
  ].join('\n');
}
