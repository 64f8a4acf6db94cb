/**
 * Cost of the configuration forms (issue 11, part 3), as the median over rounds of one
 * parseConfigText of a document near the 256 KiB limit: hastate's keys in a section, next to an
 * application part of ~2,000 entries; as YAML, as plain JSON, and as JSONC with a comment between
 * every two tokens (the worst case for comment blanking); plus the blanking alone and an object.
 * Usage: npx tsx scripts/bench-config-forms.ts [rounds=21]
 */
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { loadConfig, MAX_FILE_BYTES, parseConfigText } from '../src/config/index.ts';
import { blankJsonComments } from '../src/config/jsonc.ts';

const ROUNDS = Number(process.argv.find((a) => a.startsWith('rounds='))?.split('=')[1] ?? '21');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const opts = { env: {}, networkInterfaces: () => ({}) };

function timeMs(f: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** JSONC of a value: a block comment between every two tokens, a line comment after every comma. */
function commented(v: unknown): string {
  if (Array.isArray(v)) return `[/*a*/${v.map(commented).join(', // item\n')}/*z*/]`;
  if (v !== null && typeof v === 'object') {
    return `{/*o*/${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)} /*k*/ : /*v*/ ${commented(x)}`).join(', // entry\n')}}`;
  }
  return JSON.stringify(v);
}

const hastate = { ha: { interface: '127.0.0.1', node_id: 'bench', priority: 5, heartbeat: { interval_seconds: 1, timeout_seconds: 3 } }, log: { level: 'warn' } };
let entries = 2000;
let doc: Record<string, unknown>;
let jsonc: string;
for (;;) {
  const app = Object.fromEntries(Array.from({ length: entries }, (_, i) => [`key_${i}`, { url: `http://host-${i}.example//path`, size: i }]));
  doc = { app, hastate };
  jsonc = commented(doc);
  if (Buffer.byteLength(jsonc) <= MAX_FILE_BYTES) break;
  entries = Math.floor(entries * 0.9);
}
const json = JSON.stringify(doc, null, 2);
const yaml = stringify(doc);
const section = { section: 'hastate', ...opts };

const rows: [string, number, number][] = [
  ['YAML', Buffer.byteLength(yaml), timeMs(() => parseConfigText(yaml, 'b.yaml', section))],
  ['JSON', Buffer.byteLength(json), timeMs(() => parseConfigText(json, 'b.json', section))],
  ['JSONC', Buffer.byteLength(jsonc), timeMs(() => parseConfigText(jsonc, 'b.jsonc', section))],
  ['JSONC blanking only', Buffer.byteLength(jsonc), timeMs(() => blankJsonComments(jsonc))],
  ['object (no parsing)', 0, timeMs(() => loadConfig({ object: doc, ...section }))],
];
process.stdout.write(`${entries} application entries; median of ${ROUNDS} rounds\n`);
for (const [name, bytes, ms] of rows) process.stdout.write(`${name.padEnd(22)} ${String(bytes).padStart(7)} bytes  ${ms.toFixed(2).padStart(8)} ms\n`);
