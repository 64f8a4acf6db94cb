/**
 * The live view served at GET /: the role statechart (the generated visualizations/role.svg)
 * with the node's active states highlighted, the node's vitals, the peers table, services and
 * the role-change history with epochs and reasons, updated from GET /events (server-sent
 * events) without reloading.
 *
 * Self-contained: inline CSS and JS, no external asset, so it works on an isolated network.
 * Everything that comes from the network (peer node ids are unauthenticated datagrams) is put
 * into the page with textContent, never as markup, and the Content-Security-Policy below only
 * lets the page's own script run.
 *
 * Diagram contract (the SVG generator): every state is `<g class="state" id="state-<dotted path>">`,
 * e.g. `state-primary`, `state-standby.watch.watching`; the class `active` highlights it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../runtime/package-root.ts';

/** The generated diagram in this repository, resolved from this module's file. */
export const DEFAULT_DIAGRAM_PATH = join(PACKAGE_ROOT, 'visualizations/role.svg');
/** The lease machine's diagram, for nodes on the redis or etcd backend. */
export const LEASE_DIAGRAM_PATH = join(PACKAGE_ROOT, 'visualizations/lease.svg');
/** A generated diagram is a few kilobytes; refuse to inline anything absurd. */
const MAX_DIAGRAM_BYTES = 2 * 1024 * 1024;

/**
 * The SVG markup to inline, or null when the file is missing or is not an SVG document.
 * An XML declaration or doctype in front of `<svg` is removed (not allowed inside HTML).
 */
export function readDiagram(path: string = DEFAULT_DIAGRAM_PATH): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  if (Buffer.byteLength(text) > MAX_DIAGRAM_BYTES) return null;
  const body = text.replace(/^\uFEFF?\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?/i, '');
  return /^<svg[\s>]/i.test(body) ? body : null;
}

const MISSING_DIAGRAM = '<p class="missing">diagram not generated: run <code>npm run visualize</code></p>';

const SCRIPT = `'use strict';
const $ = (id) => document.getElementById(id);
const show = (v) => (v === null || v === undefined ? '-' : String(v));
const age = (ms) => (ms === null || ms === undefined ? '-' : ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(1) + ' s');
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : new Date().toLocaleTimeString());
const MAX_HISTORY = 50;

function highlight(paths) {
  for (const el of document.querySelectorAll('#diagram .state.active')) el.classList.remove('active');
  for (const p of paths) {
    const parts = String(p).split('.');
    for (let i = 1; i <= parts.length; i++) {
      const el = document.getElementById('state-' + parts.slice(0, i).join('.'));
      if (el) el.classList.add('active');
    }
  }
}
function row(cells, cls) {
  const tr = document.createElement('tr');
  if (cls) tr.className = cls;
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = show(c);
    tr.appendChild(td);
  }
  return tr;
}
function render(s) {
  const timeout = s.timing ? s.timing.heartbeatTimeoutMs : Infinity;
  $('node').textContent = s.nodeId;
  $('role').textContent = String(s.role).toUpperCase();
  $('role').className = 'badge ' + s.role;
  $('epoch').textContent = s.epoch;
  $('primary').textContent = show(s.primaryId);
  const hb = $('hbage');
  if (s.role === 'primary') { hb.textContent = 'n/a (this node is primary)'; hb.className = ''; }
  else { hb.textContent = age(s.lastPrimaryHeartbeatAgeMs); hb.className = s.lastPrimaryHeartbeatAgeMs > timeout ? 'late' : ''; }
  $('reason').textContent = s.reason;
  $('dropped').textContent = s.droppedPackets ? s.droppedPackets.total : '-';
  $('transport').textContent = s.transport && s.transport.up ? 'up' : 'DOWN';
  $('transport').className = s.transport && s.transport.up ? '' : 'late';
  highlight(Array.isArray(s.statePaths) && s.statePaths.length > 0 ? s.statePaths : [s.role]);
  const peers = (s.peers || []).map((p) => {
    const silent = p.lastSeenAgeMs > timeout;
    return row([p.nodeId, silent ? p.role + ' (silent)' : p.role, p.priority, p.epoch, p.address, age(p.lastSeenAgeMs) + ' ago'], silent ? 'silent' : '');
  });
  $('peers').replaceChildren(...(peers.length ? peers : [row(['none heard'], 'silent')]));
  const services = (s.services || []).map((v) => row([v.name, v.state, v.restarts, v.lastError], v.state === 'running' ? '' : 'late'));
  $('services').replaceChildren(...(services.length ? services : [row(['none'], 'silent')]));
  $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
}
function historyItem(e) {
  const li = document.createElement('li');
  const when = document.createElement('span');
  when.className = 'muted';
  when.textContent = clock(e.at) + ' ';
  const what = document.createElement('b');
  what.textContent = e.from === e.to ? 'new epoch as ' + e.to : e.from + ' \\u2192 ' + e.to;
  li.append(when, what, document.createTextNode('  epoch ' + show(e.epoch) + '  ' + show(e.reason)));
  return li;
}
const source = new EventSource('/events');
source.onopen = () => { $('conn').textContent = 'live'; $('conn').className = 'live'; };
source.onerror = () => { $('conn').textContent = 'disconnected, retrying...'; $('conn').className = 'late'; };
source.addEventListener('status', (m) => render(JSON.parse(m.data)));
source.addEventListener('history', (m) => {
  const list = JSON.parse(m.data).slice(-MAX_HISTORY).reverse();
  $('history').replaceChildren(...list.map(historyItem));
});
source.addEventListener('role', (m) => {
  const h = $('history');
  h.prepend(historyItem(JSON.parse(m.data)));
  while (h.children.length > MAX_HISTORY) h.lastChild.remove();
});
`;

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 16px; color: #1f2d3d; background: #fff; }
header { display: flex; gap: 20px; align-items: baseline; flex-wrap: wrap; }
h1 { margin: 0; font-size: 18px; } h2 { font-size: 15px; margin: 14px 0 4px; }
.badge { font-weight: 700; padding: 2px 10px; border-radius: 4px; background: #e5e8ec; }
.badge.primary { background: #b9ecb9; } .badge.standby { background: #d6e4ff; } .badge.electing { background: #ffe8b0; } .badge.unknown { background: #f4c7c7; }
.muted, .silent { color: #778; } .late { color: #b00020; font-weight: 600; } .live { color: #1a7f37; }
#diagram { border: 1px solid #ccd; margin: 10px 0; padding: 4px; }
#diagram > svg { display: block; width: 100%; height: auto; max-height: 62vh; margin: 0 auto; }
#diagram .state.active > text { font-weight: 700; }
.missing { padding: 24px; font-size: 16px; color: #b00020; }
.cols { display: flex; gap: 32px; flex-wrap: wrap; align-items: flex-start; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccd; padding: 3px 8px; text-align: left; }
th { background: #f3f5f8; }
#history { font: 12px ui-monospace, monospace; margin: 0; padding-left: 22px; max-height: 30vh; overflow: auto; }
`;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/**
 * The Content-Security-Policy to send with the page: only its own inline script (by hash),
 * inline styles, and connections to its own origin. This also keeps the page offline.
 */
export const LIVE_VIEW_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  "style-src 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page with `svg` inlined as the diagram (null: the "run npm run visualize" placeholder). */
export function renderLiveViewPage(svg: string | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>hastate live view</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body>
<header>
  <h1>hastate <span id="node">-</span></h1>
  <span>role <span id="role" class="badge unknown">UNKNOWN</span></span>
  <span>epoch <b id="epoch">-</b></span>
  <span>primary <b id="primary">-</b></span>
  <span>last primary heartbeat <b id="hbage">-</b></span>
  <span>transport <b id="transport">-</b></span>
  <span>dropped <b id="dropped">-</b></span>
  <span id="conn" class="muted">connecting...</span>
  <span id="updated" class="muted"></span>
</header>
<div class="muted">last change: <span id="reason">-</span></div>
<div id="diagram">${svg ?? MISSING_DIAGRAM}</div>
<div class="cols">
<section><h2>Peers</h2>
<table><thead><tr><th>node id</th><th>role</th><th>priority</th><th>epoch</th><th>address</th><th>last seen</th></tr></thead><tbody id="peers"></tbody></table>
<h2>Services</h2>
<table><thead><tr><th>service</th><th>state</th><th>restarts</th><th>last error</th></tr></thead><tbody id="services"></tbody></table>
</section>
<section><h2>Role changes</h2><ol id="history" reversed></ol></section>
</div>
<script>${SCRIPT}</script>
</body></html>
`;
}

/** The live view page, with the diagram read from `diagramSvgPath` (default: this repository's). */
export function liveViewPage(diagramSvgPath: string = DEFAULT_DIAGRAM_PATH): string {
  return renderLiveViewPage(readDiagram(diagramSvgPath));
}
