/**
 * A small deterministic SVG layout for statecharts, so the diagram needs no browser or
 * layout engine to build. Compound states lay their children out in a row; parallel states
 * stack their regions with dashed separators. Every state is a <g class="state"
 * id="state-<path>"> so a page can highlight the active one by toggling class "active".
 */
import { allStates, transitionLabel, type StateModel } from './model.ts';

const CHAR_PX = 7;
const PAD = 16;
const HEADER = 24;
const GAP = 40;

interface Box {
  node: StateModel;
  x: number;
  y: number;
  w: number;
  h: number;
  children: Box[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function measure(node: StateModel): Box {
  const title = node.invokes.length > 0 ? `${node.key}  ⟳ ${node.invokes.join(', ')}` : node.key;
  const titleW = title.length * CHAR_PX + 2 * PAD;
  if (node.children.length === 0) return { node, x: 0, y: 0, w: Math.max(120, titleW), h: 44, children: [] };
  const children = node.children.map(measure);
  if (node.type === 'parallel') {
    const w = Math.max(titleW, ...children.map((c) => c.w)) + 2 * PAD;
    let y = HEADER + PAD;
    for (const c of children) {
      c.x = PAD;
      c.y = y;
      y += c.h + GAP / 2;
    }
    return { node, x: 0, y: 0, w, h: y - GAP / 2 + PAD, children };
  }
  let x = PAD;
  for (const c of children) {
    c.x = x;
    c.y = HEADER + PAD + GAP / 2;
    x += c.w + GAP;
  }
  const w = Math.max(titleW, x - GAP + PAD);
  const h = HEADER + PAD + GAP / 2 + Math.max(...children.map((c) => c.h)) + PAD + GAP / 2;
  return { node, x: 0, y: 0, w, h, children };
}

function absolute(box: Box, ox: number, oy: number, out: Map<string, Box>): void {
  box.x += ox;
  box.y += oy;
  out.set(box.node.path, box);
  for (const c of box.children) absolute(c, box.x, box.y, out);
}

function drawBox(box: Box, parts: string[], isRoot: boolean): void {
  const n = box.node;
  const cls = isRoot ? 'machine' : 'state';
  const id = isRoot ? `machine-${n.key}` : `state-${n.path}`;
  parts.push(`<g class="${cls}" id="${esc(id)}" data-path="${esc(n.path)}">`);
  parts.push(`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" rx="8"${n.type === 'parallel' ? ' class="parallel"' : ''}/>`);
  const title = n.invokes.length > 0 ? `${n.key}  ⟳ ${n.invokes.join(', ')}` : n.key;
  const textY = box.children.length === 0 ? box.y + box.h / 2 + 4 : box.y + 17;
  parts.push(`<text x="${box.x + PAD}" y="${textY}" class="title">${esc(title)}</text>`);
  if (n.type === 'parallel') {
    for (const c of box.children.slice(1)) parts.push(`<line x1="${box.x + 4}" y1="${c.y - GAP / 4}" x2="${box.x + box.w - 4}" y2="${c.y - GAP / 4}" class="region"/>`);
  }
  for (const c of box.children) drawBox(c, parts, false);
  parts.push('</g>');
}

const ROW = 16;

export function toSvg(root: StateModel): string {
  const rootBox = measure(root);
  const boxes = new Map<string, Box>();
  absolute(rootBox, 10, 10, boxes);
  const parts: string[] = [];
  drawBox(rootBox, parts, true);
  // Edges are routed like an arc diagram: down from the source, along a channel row of their
  // own below the chart, and up into the target, so no two labels share a line.
  const arrows: string[] = [];
  const channelTop = rootBox.y + rootBox.h + 14;
  let row = 0;
  let widest = rootBox.x + rootBox.w;
  const starts = new Map<string, number>();
  const spread = (box: Box) => {
    const k = starts.get(box.node.path) ?? 0;
    starts.set(box.node.path, k + 1);
    const offset = ((k % 7) - 3) * 5;
    return box.x + box.w / 2 + offset;
  };
  for (const state of allStates(root)) {
    for (const t of state.transitions) {
      for (const target of t.targets) {
        const a = boxes.get(state.path)!;
        const b = boxes.get(target)!;
        const y = channelTop + row * ROW;
        row++;
        const x1 = spread(a);
        const x2 = a === b ? x1 + 10 : spread(b);
        const y1 = a.y + a.h;
        const y2 = b.y + b.h;
        const text = `${a.node.key} → ${b.node.key}: ${transitionLabel(t)}`;
        const labelX = Math.max(x1, x2) + 6;
        // The whole label, source and target included, must fit: 10px sans-serif is about 6 px a character.
        widest = Math.max(widest, labelX + text.length * 6);
        arrows.push(
          `<path d="M ${x1.toFixed(1)} ${y1.toFixed(1)} V ${y.toFixed(1)} H ${x2.toFixed(1)} V ${(y2 + 1).toFixed(1)}" class="edge"/>` +
            `<text x="${labelX.toFixed(1)}" y="${(y + 3.5).toFixed(1)}" class="label">${esc(text)}</text>`,
        );
      }
    }
  }
  const width = Math.ceil(widest + 20);
  const height = channelTop + row * ROW + 10;
  const style = [
    'rect { fill: #f7f9fc; stroke: #44546a; stroke-width: 1.2 }',
    'rect.parallel { stroke-dasharray: 6 3 }',
    '.state.active > rect { stroke-width: 3; fill: #fff3b0; stroke: #b8860b }',
    '.title { font: 600 12px sans-serif; fill: #1f2d3d }',
    '.label { font: 10px sans-serif; fill: #36454f; paint-order: stroke; stroke: #ffffff; stroke-width: 3px }',
    '.edge { stroke: #7a8ba1; stroke-width: 1; fill: none; marker-end: url(#arrow) }',
    '.region { stroke: #7a8ba1; stroke-dasharray: 4 4 }',
  ].join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<style>\n${style}\n</style>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8ba1"/></marker></defs>',
    ...parts,
    ...arrows,
    '</svg>',
    '',
  ].join('\n');
}
