/**
 * The live view served at GET /: the role statechart (the generated SVG) with the node's
 * active states highlighted, the peers table, role-change history with epochs, and heartbeat
 * age, updated from GET /events (server-sent events) without reloading. Self-contained: no
 * external assets, so it works on an isolated network.
 */
import { readFileSync } from 'node:fs';

const DIAGRAM = new URL('../../visualizations/role.svg', import.meta.url);

function diagram(): string {
  try {
    return readFileSync(DIAGRAM, 'utf8');
  } catch {
    return '<p class="missing">Diagram not generated: run <code>npm run visualize</code>.</p>';
  }
}

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const text = (v) => (v === null || v === undefined ? '-' : String(v));
const age = (ms) => (ms === null || ms === undefined ? '-' : ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s');
function highlight(paths) {
  for (const el of document.querySelectorAll('.state.active')) el.classList.remove('active');
  for (const p of paths) {
    const parts = p.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const el = document.getElementById('state-' + parts.slice(0, i).join('.'));
      if (el) el.classList.add('active');
    }
  }
}
function render(s) {
  $('node').textContent = s.nodeId;
  $('role').textContent = s.role.toUpperCase();
  $('role').className = 'role ' + s.role;
  $('epoch').textContent = s.epoch;
  $('primary').textContent = text(s.primaryId);
  $('hbage').textContent = age(s.lastPrimaryHeartbeatAgeMs);
  $('reason').textContent = s.reason;
  $('dropped').textContent = s.droppedPackets.total;
  highlight(s.statePaths || [s.role]);
  const rows = s.peers.map((p) => '<tr><td>' + p.nodeId + '</td><td>' + p.role + '</td><td>' + p.priority + '</td><td>' + p.epoch + '</td><td>' + age(p.lastSeenAgeMs) + '</td></tr>');
  $('peers').innerHTML = rows.join('') || '<tr><td colspan="5">none heard</td></tr>';
}
function addHistory(e) {
  const li = document.createElement('li');
  li.textContent = new Date().toLocaleTimeString() + '  ' + e.from + ' -> ' + e.to + '  epoch ' + e.epoch + '  ' + e.reason;
  $('history').prepend(li);
  while ($('history').children.length > 50) $('history').lastChild.remove();
}
const source = new EventSource('/events');
source.addEventListener('status', (m) => { render(JSON.parse(m.data)); $('conn').textContent = 'live'; });
source.addEventListener('role', (m) => addHistory(JSON.parse(m.data)));
source.onerror = () => { $('conn').textContent = 'reconnecting...'; };
`;

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 16px; color: #1f2d3d; }
header { display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
.role { font-weight: 700; padding: 2px 8px; border-radius: 4px; background: #e5e8ec; }
.role.primary { background: #c8f0c8; } .role.standby { background: #d6e4ff; } .role.electing { background: #ffe8b0; } .role.unknown { background: #f4c7c7; }
table { border-collapse: collapse; margin-top: 8px; } td, th { border: 1px solid #ccd; padding: 3px 8px; text-align: left; }
#diagram { overflow: auto; border: 1px solid #ccd; margin: 12px 0; max-height: 60vh; }
#history { font-family: ui-monospace, monospace; font-size: 12px; }
.muted { color: #667; }
`;

export function liveViewPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hastate live view</title><style>${STYLE}</style></head>
<body>
<header>
  <h1 style="margin:0;font-size:18px">hastate <span id="node"></span></h1>
  <span>role <span id="role" class="role unknown">UNKNOWN</span></span>
  <span>epoch <b id="epoch">-</b></span>
  <span>primary <b id="primary">-</b></span>
  <span>last primary heartbeat <b id="hbage">-</b> ago</span>
  <span>dropped <b id="dropped">0</b></span>
  <span class="muted" id="conn">connecting...</span>
</header>
<p class="muted">last change: <span id="reason"></span></p>
<div id="diagram">${diagram()}</div>
<h2 style="font-size:15px">Peers</h2>
<table><thead><tr><th>node id</th><th>role</th><th>priority</th><th>epoch</th><th>last seen</th></tr></thead><tbody id="peers"></tbody></table>
<h2 style="font-size:15px">Role changes</h2>
<ol id="history"></ol>
<script>${SCRIPT}</script>
</body></html>
`;
}
