/**
 * Lays a nested diagram out with ELK (elkjs, the engine behind the Stately visualizer): boxes
 * inside boxes as ELK hierarchical nodes, edges routed orthogonally across the hierarchy, edge
 * labels placed by the layered algorithm so they never sit on a box or on each other.
 *
 * Only the generator (`npm run visualize`) runs this; the runtime reads the finished SVG from
 * disk, which is why elkjs is a devDependency. Text is measured from a per-character width
 * estimate, a little generous, so that the layout does not depend on the fonts installed.
 */
import elkModule, { type ElkExtendedEdge, type ElkNode } from 'elkjs/lib/elk.bundled.js';
import { internalBug } from '../assert.ts';

// elkjs is CommonJS: Node hands the constructor over as the default import, while its typings
// describe an ES module whose `default` is the constructor. Accept either shape.
const isElkConstructor = (x: unknown): x is typeof elkModule.default => typeof x === 'function';
function elkConstructor(): typeof elkModule.default {
  const inner: unknown = Reflect.get(elkModule, 'default');
  if (isElkConstructor(inner)) return inner;
  if (isElkConstructor(elkModule)) return elkModule;
  throw internalBug('elkjs exports no ELK constructor');
}
const ELK = elkConstructor();

export interface DiagramNode {
  id: string;
  /** Lines of text: the first is the title, the others (invoked actors, notes) are smaller. */
  lines: string[];
  /** Drawing style, e.g. `state`, `parallel`, `region`, `initial`, `final`. */
  kind: string;
  children: DiagramNode[];
}

export interface DiagramEdge {
  id: string;
  source: string;
  target: string;
  /** Text on the edge; `\n` breaks it into lines. Empty: no label. */
  label: string;
  kind: string;
}

export interface Placed {
  node: DiagramNode;
  x: number;
  y: number;
  w: number;
  h: number;
  children: Placed[];
}

export interface PlacedEdge {
  edge: DiagramEdge;
  points: { x: number; y: number }[];
  label: { x: number; y: number; w: number; h: number } | null;
}

export const TITLE_PX = 13;
export const NOTE_PX = 11;
export const LABEL_PX = 11;
const LINE_GAP_PX = 5;
export const PAD_PX = 12;

/** Width of `text` in DejaVu Sans-like metrics (Debian's default sans), rounded up. */
export function textWidth(text: string, fontPx: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    if (/[A-Z]/.test(ch)) em += ch === 'I' ? 0.35 : ch === 'M' || ch === 'W' ? 0.9 : 0.72;
    else if (/[ijlt.,:;!|'[\]()]/.test(ch)) em += 0.34;
    else if (/[mw]/.test(ch)) em += 0.92;
    else if (ch === ' ') em += 0.32;
    else em += 0.62;
  }
  return Math.ceil(em * fontPx * (bold ? 0.95 : 0.9));
}

function headerHeight(node: DiagramNode): number {
  return node.lines.length === 0 ? 0 : TITLE_PX + (node.lines.length - 1) * (NOTE_PX + LINE_GAP_PX) + LINE_GAP_PX;
}

function headerWidth(node: DiagramNode): number {
  const widths = node.lines.map((l, i) => textWidth(l, i === 0 ? TITLE_PX : NOTE_PX, i === 0));
  return Math.max(0, ...widths) + 2 * PAD_PX;
}

function toElk(node: DiagramNode): ElkNode {
  if (node.kind === 'initial') return { id: node.id, width: 14, height: 14 };
  const header = headerHeight(node);
  if (node.children.length === 0) return { id: node.id, width: Math.max(90, headerWidth(node)), height: Math.max(40, header + 2 * PAD_PX) };
  return {
    id: node.id,
    children: node.children.map(toElk),
    layoutOptions: {
      // Room for the title above the children, and at least the title's width.
      'elk.padding': `[top=${header + PAD_PX + 8},left=${PAD_PX},bottom=${PAD_PX},right=${PAD_PX}]`,
      'elk.nodeSize.constraints': 'MINIMUM_SIZE',
      'elk.nodeSize.minimum': `(${headerWidth(node)}, ${header + 3 * PAD_PX})`,
    },
  };
}

const ROOT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.layered.spacing.edgeNodeBetweenLayers': '14',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '10',
  'elk.spacing.nodeNode': '28',
  'elk.spacing.edgeNode': '14',
  'elk.spacing.edgeEdge': '10',
  'elk.spacing.edgeLabel': '3',
  'elk.spacing.labelLabel': '4',
  'elk.layered.mergeEdges': 'false',
  // Keep the declared order where the algorithm has a free choice: stable output, and states
  // appear roughly in the order the machine lists them.
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  'elk.randomSeed': '1',
  // Every coordinate in the answer absolute, not relative to a parent or an edge's container.
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT',
};

export const LABEL_LINE_PX = LABEL_PX + 3;

/** An edge label's box: its widest line by its lines, plus a margin. Drawn on the edge itself. */
function labelShape(text: string) {
  const lines = text.split('\n');
  return {
    text,
    width: Math.max(...lines.map((l) => textWidth(l, LABEL_PX))) + 12,
    height: lines.length * LABEL_LINE_PX + 4,
    layoutOptions: { 'elk.edgeLabels.inline': 'true' },
  };
}

function ids(node: DiagramNode, out: Set<string>): Set<string> {
  out.add(node.id);
  for (const c of node.children) ids(c, out);
  return out;
}

export async function layout(root: DiagramNode, edges: DiagramEdge[], direction: 'RIGHT' | 'DOWN' = 'RIGHT'): Promise<{ root: Placed; edges: PlacedEdge[]; width: number; height: number }> {
  const known = ids(root, new Set());
  for (const e of edges) {
    if (!known.has(e.source) || !known.has(e.target)) throw internalBug(`diagram edge ${e.id}: unknown node ${known.has(e.source) ? e.target : e.source}`);
  }
  const graph = toElk(root);
  graph.layoutOptions = { ...graph.layoutOptions, ...ROOT_OPTIONS, 'elk.direction': direction };
  graph.edges = edges.map(
    (e): ElkExtendedEdge => ({
      id: e.id,
      sources: [e.source],
      targets: [e.target],
      labels: e.label ? [labelShape(e.label)] : [],
    }),
  );
  const done = await new ELK().layout(graph);

  const place = (n: ElkNode, d: DiagramNode): Placed => {
    const kids = n.children ?? [];
    return { node: d, x: n.x ?? 0, y: n.y ?? 0, w: n.width ?? 0, h: n.height ?? 0, children: d.children.map((c, i) => place(kids[i]!, c)) };
  };
  const placedRoot = place(done, root);
  const byId = new Map(edges.map((e) => [e.id, e]));
  const placedEdges = (done.edges ?? []).map((e): PlacedEdge => {
    const points = (e.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]);
    const l = e.labels?.[0];
    return { edge: byId.get(e.id)!, points, label: l ? { x: l.x ?? 0, y: l.y ?? 0, w: l.width ?? 0, h: l.height ?? 0 } : null };
  });
  return { root: placedRoot, edges: placedEdges, width: Math.ceil(placedRoot.w), height: Math.ceil(placedRoot.h) };
}
