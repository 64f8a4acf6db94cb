import { allStates, transitionLabel, type StateModel } from './model.ts';

const idOf = (path: string) => path.replace(/\./g, '__');

/**
 * A Mermaid stateDiagram-v2. Transitions that change state are drawn; transitions that only
 * run actions are listed in the Markdown file's table instead, to keep the diagram legible.
 */
export function toMermaid(root: StateModel): string {
  const lines = ['stateDiagram-v2'];
  const emitChildren = (node: StateModel, indent: string) => {
    if (node.initial) lines.push(`${indent}[*] --> ${idOf(node.initial)}`);
    node.children.forEach((child, i) => {
      if (node.type === 'parallel' && i > 0) lines.push(`${indent}--`);
      const label = child.invokes.length > 0 ? `${child.key} (invokes ${child.invokes.join(', ')})` : child.key;
      if (child.children.length === 0) {
        lines.push(`${indent}state "${label}" as ${idOf(child.path)}`);
      } else {
        lines.push(`${indent}state "${label}" as ${idOf(child.path)} {`);
        emitChildren(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
    });
  };
  emitChildren(root, '  ');
  for (const state of [root, ...allStates(root)]) {
    for (const t of state.transitions) {
      for (const target of t.targets) {
        if (state === root) continue; // root-level transitions are listed in the table
        lines.push(`  ${idOf(state.path)} --> ${idOf(target)} : ${transitionLabel(t).replace(/:/g, ' ')}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

export function toMarkdown(name: string, root: StateModel, mermaid: string): string {
  const rows: string[] = [];
  for (const state of [root, ...allStates(root)]) {
    for (const t of state.transitions) {
      rows.push(`| \`${state.path || name}\` | ${t.event} | ${t.guard ? `\`${t.guard}\`` : ''} | ${t.targets.length > 0 ? t.targets.map((x) => `\`${x}\``).join(', ') : '(stays)'} | ${t.actions.join(', ')} |`);
    }
  }
  return [
    `# The \`${name}\` machine`,
    '',
    `Generated from \`machines/\` by \`npm run visualize\`; do not edit. Boxes are states, nested boxes`,
    'are child states, `--` separates the regions of a parallel state, and labels read',
    '`EVENT [guard] / actions`. `after <delay>` is a delayed transition named in `setup({ delays })`.',
    'Transitions that only run actions (and stay in their state) are in the table below.',
    '',
    '```mermaid',
    mermaid.trimEnd(),
    '```',
    '',
    '## Every transition',
    '',
    '| state | event | guard | target | actions |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
