/**
 * Draws a laid-out diagram (see layout.ts) as a self-contained SVG: nested boxes, orthogonal
 * edges with rounded bends and arrowheads, and edge labels on a white pill drawn above every
 * edge so no line runs through a label.
 *
 * Contract with the live view (src/web/live-view.ts): every box is a `<g class="state"
 * id="state-<dotted path>">` (the root machine is `class="machine"`), its `<rect>` a direct
 * child, so a page highlights a state by adding the class `active`.
 */
import { LABEL_LINE_PX, LABEL_PX, NOTE_PX, PAD_PX, TITLE_PX, type Placed, type PlacedEdge } from './layout.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number) => (Math.round(v * 10) / 10).toString();
const CORNER_PX = 5;

const STYLE = [
  'rect { fill: #f7f9fc; stroke: #44546a; stroke-width: 1.2 }',
  '.machine > rect { fill: #ffffff; stroke: #8a99ad }',
  'rect.region { fill: none; stroke: #8a99ad; stroke-dasharray: 5 4 }',
  'rect.parallel { fill: #fbfcfe }',
  'rect.final { stroke-width: 3; stroke: #44546a }',
  'rect.actor { fill: #eef6ee; stroke: #4f7a4f }',
  'rect.object { fill: #fff8e8; stroke: #8a6d2f }',
  '.state.active > rect { stroke-width: 3; fill: #fff3b0; stroke: #b8860b }',
  'circle.initial { fill: #44546a }',
  `.title { font: 600 ${TITLE_PX}px sans-serif; fill: #1f2d3d }`,
  `.note { font: ${NOTE_PX}px sans-serif; fill: #4a5a6e }`,
  `.label { font: ${LABEL_PX}px sans-serif; fill: #26323f }`,
  'rect.label-bg { fill: #ffffff; stroke: #b4c0cf; stroke-width: 0.8 }',
  '.edge { stroke: #6b7c93; stroke-width: 1.2; fill: none; marker-end: url(#arrow) }',
  '.edge.initial, .edge.owns { stroke: #44546a }',
  '.edge.events { stroke-dasharray: 5 3 }',
].join('\n');

/** A polyline with its bends rounded off, so crossing and touching edges stay tellable apart. */
function pathOf(points: { x: number; y: number }[]): string {
  if (points.length === 0) return '';
  const parts = [`M ${n(points[0]!.x)} ${n(points[0]!.y)}`];
  for (let i = 1; i < points.length - 1; i++) {
    const [a, b, c] = [points[i - 1]!, points[i]!, points[i + 1]!];
    const r = Math.min(CORNER_PX, Math.hypot(b.x - a.x, b.y - a.y) / 2, Math.hypot(c.x - b.x, c.y - b.y) / 2);
    const into = (p: { x: number; y: number }) => {
      const d = Math.hypot(p.x - b.x, p.y - b.y) || 1;
      return { x: b.x + ((p.x - b.x) / d) * r, y: b.y + ((p.y - b.y) / d) * r };
    };
    const p1 = into(a);
    const p2 = into(c);
    parts.push(`L ${n(p1.x)} ${n(p1.y)} Q ${n(b.x)} ${n(b.y)} ${n(p2.x)} ${n(p2.y)}`);
  }
  const last = points[points.length - 1]!;
  parts.push(`L ${n(last.x)} ${n(last.y)}`);
  return parts.join(' ');
}

function drawBox(box: Placed, out: string[], idOf: (id: string) => string | null): void {
  const d = box.node;
  if (d.kind === 'initial') {
    out.push(`<circle class="initial" cx="${n(box.x + box.w / 2)}" cy="${n(box.y + box.h / 2)}" r="${n(box.w / 2 - 1)}"/>`);
    return;
  }
  const cls = d.kind === 'machine' ? 'machine' : 'state';
  const path = idOf(d.id);
  out.push(`<g class="${cls}" id="${esc(d.id)}"${path !== null ? ` data-path="${esc(path)}"` : ''}>`);
  const rectCls = d.kind === 'state' || d.kind === 'machine' ? '' : ` class="${d.kind}"`;
  out.push(`<rect x="${n(box.x)}" y="${n(box.y)}" width="${n(box.w)}" height="${n(box.h)}" rx="8"${rectCls}/>`);
  // A leaf's text is centred vertically; a compound box's sits in the padding above its children.
  const textH = TITLE_PX + (d.lines.length - 1) * (NOTE_PX + 5);
  let y = (box.children.length === 0 ? box.y + (box.h - textH) / 2 : box.y + PAD_PX - 2) + TITLE_PX - 2;
  d.lines.forEach((line, i) => {
    out.push(`<text x="${n(box.x + PAD_PX)}" y="${n(y)}" class="${i === 0 ? 'title' : 'note'}">${esc(line)}</text>`);
    y += NOTE_PX + 5;
  });
  for (const c of box.children) drawBox(c, out, idOf);
  out.push('</g>');
}

/**
 * `idOf` maps a box id to the `data-path` it carries (null: none), which a page or test can use
 * to find a state by its machine path.
 */
export function toSvg(laid: { root: Placed; edges: PlacedEdge[]; width: number; height: number }, idOf: (id: string) => string | null = () => null): string {
  const margin = 8;
  const boxes: string[] = [];
  drawBox(laid.root, boxes, idOf);
  const lines = laid.edges.map((e) => `<path d="${pathOf(e.points)}" class="edge ${e.edge.kind}"/>`);
  const labels = laid.edges.flatMap((e) => {
    if (e.label === null || e.edge.label === '') return [];
    const l = e.label;
    return [
      `<g class="edge-label"><rect x="${n(l.x)}" y="${n(l.y)}" width="${n(l.w)}" height="${n(l.h)}" rx="4" class="label-bg"/>` +
        `<text class="label">${e.edge.label
          .split('\n')
          .map((line, i) => `<tspan x="${n(l.x + 5)}" y="${n(l.y + 2 + (i + 1) * LABEL_LINE_PX - 3.5)}">${esc(line)}</tspan>`)
          .join('')}</text></g>`,
    ];
  });
  const w = laid.width + 2 * margin;
  const h = laid.height + 2 * margin;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="${-margin} ${-margin} ${w} ${h}">`,
    `<style>\n${STYLE}\n</style>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 1 L 9 5 L 0 9 z" fill="#6b7c93"/></marker></defs>',
    ...boxes,
    ...lines,
    ...labels,
    '</svg>',
    '',
  ].join('\n');
}
