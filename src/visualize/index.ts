import type { AnyStateMachine } from 'xstate';
import { leaseMachine } from '../../machines/lease.machine.ts';
import { roleMachine } from '../../machines/role.machine.ts';
import { serviceMachine } from '../../machines/service.machine.ts';
import { actorTreeDiagram, actorTreeMarkdown, actorTreeMermaid } from './actors.ts';
import { layout } from './layout.ts';
import { toMarkdown, toMermaid } from './mermaid.ts';
import { readMachine } from './model.ts';
import { statechartDiagram } from './statechart.ts';
import { toSvg } from './svg.ts';

export const MACHINES: Record<string, AnyStateMachine> = { role: roleMachine, lease: leaseMachine, service: serviceMachine };

/** Every generated file, by path relative to visualizations/, as it must be committed. */
export async function generateAll(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const [name, machine] of Object.entries(MACHINES)) {
    const model = readMachine(machine);
    const mermaid = toMermaid(model);
    files.set(`${name}.mmd`, mermaid);
    files.set(`${name}.md`, toMarkdown(name, model, mermaid));
    const diagram = statechartDiagram(model);
    const laid = await layout(diagram.root, diagram.edges);
    files.set(`${name}.svg`, toSvg(laid, (id) => (id.startsWith('state-') ? id.slice('state-'.length) : null)));
  }
  const actors = actorTreeDiagram();
  const actorsMermaid = actorTreeMermaid(actors);
  files.set('actors.mmd', actorsMermaid);
  files.set('actors.md', actorTreeMarkdown(actors, actorsMermaid));
  files.set('actors.svg', toSvg(await layout(actors.root, actors.edges, 'DOWN')));
  return files;
}
