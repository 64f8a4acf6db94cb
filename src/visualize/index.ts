import type { AnyStateMachine } from 'xstate';
import { leaseMachine } from '../../machines/lease.machine.ts';
import { roleMachine } from '../../machines/role.machine.ts';
import { serviceMachine } from '../../machines/service.machine.ts';
import { toMarkdown, toMermaid } from './mermaid.ts';
import { readMachine } from './model.ts';
import { toSvg } from './svg.ts';

export const MACHINES: Record<string, AnyStateMachine> = { role: roleMachine, lease: leaseMachine, service: serviceMachine };

/** Every generated file, by path relative to visualizations/, as it must be committed. */
export function generateAll(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, machine] of Object.entries(MACHINES)) {
    const model = readMachine(machine);
    const mermaid = toMermaid(model);
    files.set(`${name}.mmd`, mermaid);
    files.set(`${name}.md`, toMarkdown(name, model, mermaid));
    files.set(`${name}.svg`, toSvg(model));
  }
  return files;
}
