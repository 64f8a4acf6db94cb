import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromCallback, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { actorTreeDiagram, ELECTION_MACHINES } from '../../src/visualize/actors.ts';
import { generateAll, MACHINES } from '../../src/visualize/index.ts';
import { layout, textWidth, TITLE_PX, type Placed } from '../../src/visualize/layout.ts';
import { allStates, readMachine } from '../../src/visualize/model.ts';
import { edgeLabel, statechartDiagram } from '../../src/visualize/statechart.ts';

const root = join(import.meta.dirname, '../..');
const dir = join(root, 'visualizations');
const files = await generateAll();

type Rect = { x: number; y: number; w: number; h: number };
const overlap = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const flatten = (p: Placed): Placed[] => [p, ...p.children.flatMap(flatten)];
const escaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

describe('visualizations', () => {
  it('the committed diagrams match the machine definitions (run `npm run visualize` if this fails)', () => {
    for (const [name, text] of files) {
      let committed = '';
      try {
        committed = readFileSync(join(dir, name), 'utf8');
      } catch {
        // missing counts as stale
      }
      expect(committed === text, `visualizations/${name} is stale: run npm run visualize`).toBe(true);
    }
  });

  it('generation is deterministic', async () => {
    expect([...(await generateAll())]).toEqual([...files]);
  });

  it('the runtime never loads the generator or elkjs (the live view reads the finished SVG)', () => {
    const offenders: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
        const rel = `${d}/${e.name}`;
        if (e.isDirectory()) {
          if (rel !== 'src/visualize') walk(rel);
        } else if (/\.ts$/.test(e.name) && /from '[^']*(visualize\/|elkjs)/.test(readFileSync(join(root, rel), 'utf8'))) offenders.push(rel);
      }
    };
    walk('src');
    walk('machines');
    expect(offenders).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.dependencies.elkjs).toBeUndefined();
    expect(pkg.devDependencies.elkjs).toBeDefined();
  });

  for (const [name, machine] of Object.entries(MACHINES)) {
    it(`${name}: every state has an id the live view can highlight`, () => {
      const svg = files.get(`${name}.svg`)!;
      for (const s of allStates(readMachine(machine))) expect(svg).toContain(`<g class="state" id="state-${s.path}" data-path="${s.path}">`);
    });

    it(`${name}: every transition that changes state is an edge labelled with its event and guard`, () => {
      const svg = files.get(`${name}.svg`)!;
      const expected = allStates(readMachine(machine)).flatMap((s) => s.transitions.flatMap((t) => t.targets.map(() => edgeLabel(t.event, t.guard))));
      expect(expected.length).toBeGreaterThan(0);
      expect(svg.match(/class="edge transition"/g)?.length).toBe(expected.length);
      const labels = [...svg.matchAll(/<text class="label">(.*?)<\/text>/g)].map((m) => [...m[1]!.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1]).join('\n')).sort();
      expect(labels).toEqual(expected.map(escaped).sort());
      // Readable as one phrase: the event, then the guard in brackets.
      expect(edgeLabel('PEER.LEAVING', 'isPrimaryLeaving && !isForcedStandby')).toBe('PEER.LEAVING\n[isPrimaryLeaving\n&& !isForcedStandby]');
    });

    it(`${name}: the layout nests every state inside its parent, and no label covers another label or a state`, async () => {
      const diagram = statechartDiagram(readMachine(machine));
      const laid = await layout(diagram.root, diagram.edges);
      for (const parent of flatten(laid.root)) {
        for (const child of parent.children) {
          expect(child.x >= parent.x && child.y >= parent.y && child.x + child.w <= parent.x + parent.w && child.y + child.h <= parent.y + parent.h, `${child.node.id} inside ${parent.node.id}`).toBe(true);
        }
      }
      const leaves = flatten(laid.root).filter((p) => p.children.length === 0);
      const labels = laid.edges.flatMap((e) => (e.label ? [{ id: e.edge.label, ...e.label }] : []));
      for (const [i, a] of labels.entries()) {
        for (const b of labels.slice(i + 1)) expect(overlap(a, b), `labels "${a.id}" and "${b.id}" overlap`).toBe(false);
        for (const leaf of leaves) expect(overlap(a, leaf), `label "${a.id}" covers ${leaf.node.id}`).toBe(false);
      }
      // A compound state's title sits in its top padding: no label on it either.
      const titles = flatten(laid.root)
        .filter((p) => p.children.length > 0)
        .map((p) => ({ x: p.x + 12, y: p.y + 8, w: textWidth(p.node.lines[0]!, TITLE_PX, true), h: TITLE_PX + 2, id: p.node.id }));
      for (const l of labels) for (const t of titles) expect(overlap(l, t), `label "${l.id}" covers the title of ${t.id}`).toBe(false);
      // No edge runs through a state it neither leaves nor enters (1 px inset for shared borders).
      for (const e of laid.edges) {
        expect(e.points.length, `${e.edge.id} is routed`).toBeGreaterThanOrEqual(2);
        for (const leaf of leaves) {
          if (leaf.node.id === e.edge.source || leaf.node.id === e.edge.target) continue;
          const inner = { x: leaf.x + 1, y: leaf.y + 1, w: leaf.w - 2, h: leaf.h - 2 };
          for (const [a, b] of e.points.slice(1).map((p, i) => [e.points[i]!, p] as const)) {
            const seg = { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x) || 0.01, h: Math.abs(a.y - b.y) || 0.01 };
            expect(overlap(seg, inner), `edge "${e.edge.label}" (${e.edge.source} -> ${e.edge.target}) crosses ${leaf.node.id}`).toBe(false);
          }
        }
      }
    });

    it(`${name}: opens by name in the Stately editor: every guard, action, actor and delay is named in setup()`, () => {
      const impl = (machine as unknown as { implementations: Record<string, Record<string, unknown>> }).implementations;
      const model = readMachine(machine);
      for (const s of [model, ...allStates(model)]) {
        for (const inv of s.invokes) expect(Object.keys(impl.actors!), `${s.path}: actor ${inv}`).toContain(inv);
        for (const a of s.entry) expect(Object.keys(impl.actions!), `${s.path}: entry ${a}`).toContain(a);
        for (const t of s.transitions) {
          for (const a of t.actions) expect(Object.keys(impl.actions!), `${s.path} ${t.event}: action ${a}`).toContain(a);
          for (const g of (t.guard ?? '').split(/ && | \|\| /).filter(Boolean)) {
            expect(Object.keys(impl.guards!), `${s.path} ${t.event}: guard ${g}`).toContain(g.replace(/^!/, ''));
          }
          const delay = /^after (.+)$/.exec(t.event)?.[1];
          if (delay !== undefined) expect(Object.keys(impl.delays!), `${s.path}: delay ${delay}`).toContain(delay);
        }
      }
    });
  }
});

describe('actor tree', () => {
  it('shows every actor each election machine names in setup(), under that machine, and the runtime around them', () => {
    const svg = files.get('actors.svg')!;
    const mermaid = files.get('actors.mmd')!;
    const tree = actorTreeDiagram();
    for (const m of ELECTION_MACHINES) {
      expect(svg).toContain(`id="${m.machine.id}"`);
      for (const actor of Object.keys(m.machine.implementations.actors)) {
        expect(svg, actor).toContain(`id="${actor}"`);
        expect(tree.edges.some((e) => e.source === m.machine.id && e.target === actor), `${m.machine.id} -> ${actor}`).toBe(true);
        expect(mermaid).toMatch(new RegExp(`${m.machine.id} -->\\|"[^"]*"\\| ${actor}\\n`));
      }
    }
    // One services machine owns the services; the election machines only emit transitions to it.
    expect(tree.edges.some((e) => e.source === 'node' && e.target === 'services')).toBe(true);
    expect(tree.edges.some((e) => e.source === 'services' && e.target === 'service')).toBe(true);
    for (const m of ELECTION_MACHINES) expect(tree.edges.find((e) => e.source === m.machine.id && e.target === 'services')?.kind).toBe('events');
    // Services' own child, from the service machine's setup().
    expect(tree.edges.some((e) => e.source === 'service' && e.target === 'runService')).toBe(true);
    for (const id of ['run', 'node', 'notify', 'status']) expect(svg).toContain(`id="${id}"`);
    expect(tree.edges.find((e) => e.source === 'role' && e.target === 'transport')?.label).toBe('invoked: for its whole life');
  });

  it('refuses, naming it, an actor it has no declaration for', () => {
    const extra = setup({ actors: { mystery: fromCallback(() => () => {}) } }).createMachine({ id: 'extra', invoke: { src: 'mystery' } });
    expect(() => actorTreeDiagram([{ name: 'extra machine', file: 'machines/extra.ts', backends: 'ha.backend x', machine: extra }])).toThrow(
      'actor tree: machine actor "mystery" (in extra) has no entry in ACTOR_SUPPLIERS in src/visualize/actors.ts',
    );
  });

  it('names only files that exist', () => {
    const tree = actorTreeDiagram();
    const named = tree.root.children.flatMap((n) => n.lines.filter((l) => /^(src|machines)\//.test(l)));
    expect(named.length).toBeGreaterThan(5);
    for (const line of named) {
      const [first, ...more] = line.split(', ');
      const base = first!.slice(0, first!.lastIndexOf('/') + 1);
      for (const f of [first!, ...more.map((m) => base + m)]) expect(() => readFileSync(join(root, f)), f).not.toThrow();
    }
  });
});
