/**
 * hastate vs keepalived, side by side in the chaos lab (network namespaces on a bridge, real
 * multicast / VRRP), at equal timings: 1 s heartbeat/advert and 0.1 s, both with 3 missed.
 * Per tool and timing: crash failover (kill -9 of the master/primary, every process of it) and
 * planned switchover (SIGTERM) over N rounds, p50/p99; false failovers per hour with the
 * master's host CPU-saturated and with 10% loss; CPU and memory of an idle master.
 * Needs root, iproute2, nftables, keepalived. Writes .results/bench-lab.json and prints a table.
 *
 * "3 missed" at equal timings: keepalived's backup (priority 90 here) declares the master down
 * after 3 x advert + (256 - 90) / 256 x advert = 3.65 adverts of silence. hastate's standby gets
 * the same span (--timeout-intervals 3.65) by default, so both tolerate the same loss bursts;
 * --timeout-intervals 3 shows what the tightest hastate setting costs under loss.
 *
 * Usage: npx tsx scripts/bench-lab.ts [--rounds 30] [--soak-minutes 2] [--long-minutes 10] [--timeout-intervals 3.65]
 *          [--intervals 1,0.1] [--scenarios crash,planned,cpu,loss,idle,long] [--compiled]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Lab, labAvailable, removeStaleLabs, waitFor } from '../test/chaos/lab.ts';
import type { NodeProcess } from '../test/integration/cluster.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '30' }, 'soak-minutes': { type: 'string', default: '2' }, 'long-minutes': { type: 'string', default: '10' }, 'timeout-intervals': { type: 'string', default: '3.65' }, scenarios: { type: 'string', default: 'crash,planned,cpu,loss,idle,long' }, intervals: { type: 'string', default: '1,0.1' }, compiled: { type: 'boolean', default: false } } });
/** --compiled: hastate nodes run the build from `npm run build` with plain node, not tsx. */
const COMPILED_CLI = values.compiled ? join(import.meta.dirname, '../dist/src/cli/main.js') : null;
if (COMPILED_CLI !== null && !existsSync(COMPILED_CLI)) throw new Error('--compiled: run npm run build first (no dist/src/cli/main.js)');
const SCENARIOS = new Set(values.scenarios.split(','));
for (const s of SCENARIOS) if (!['crash', 'planned', 'cpu', 'loss', 'idle', 'long'].includes(s)) throw new Error(`--scenarios: unknown scenario ${s} (crash, planned, cpu, loss, idle, long)`);
const INTERVALS = values.intervals.split(',').map(Number);
if (INTERVALS.some((x) => !(x >= 0.01 && x <= 10))) throw new Error('--intervals: comma-separated seconds in 0.01..10');
const TIMEOUT_INTERVALS = Number(values['timeout-intervals']);
if (!Number.isFinite(TIMEOUT_INTERVALS) || TIMEOUT_INTERVALS <= 1 || TIMEOUT_INTERVALS > 10) throw new Error('--timeout-intervals must be a number above 1 and at most 10');
const ROUNDS = Number(values.rounds);
const SOAK_MS = Number(values['soak-minutes']) * 60_000;
const LONG_MS = Number(values['long-minutes']) * 60_000;
for (const [k, v] of [['rounds', ROUNDS], ['soak-minutes', SOAK_MS], ['long-minutes', LONG_MS]] as const) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${k} must be a positive number`);
}
const lab0 = labAvailable();
if (!lab0.ok) throw new Error(`the lab needs root, iproute2 and nftables: ${lab0.why}`);

type Role = 'master' | 'backup' | 'down' | 'other';
interface Cluster {
  name: string;
  lab: Lab;
  start(i: number, cpu?: number): void;
  crash(i: number): Promise<void>;
  stop(i: number): Promise<void>;
  role(i: number): Role;
  events: { i: number; to: Role; atMs: number }[];
  pids(i: number): number[];
  destroy(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const exited = (p: ChildProcess) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once('exit', () => r())));

function ours(timing: { intervalS: number }): Cluster {
  const lab = Lab.create(2);
  lab.compiledCli = COMPILED_CLI;
  const nodes: (NodeProcess | null)[] = [null, null];
  const events: Cluster['events'] = [];
  const seen = [0, 0];
  const poll = setInterval(() => {
    nodes.forEach((n, i) => {
      if (n === null) return;
      const changes = n.roleChanges();
      for (; seen[i]! < changes.length; seen[i]!++) {
        const l = changes[seen[i]!]!;
        if (l.from === l.to) continue;
        events.push({ i, to: l.to === 'primary' ? 'master' : l.to === 'standby' ? 'backup' : 'other', atMs: l.seenAtMs });
      }
    });
  }, 2);
  return {
    name: 'hastate', lab, events,
    start(i, cpu) {
      seen[i] = 0;
      nodes[i] = lab.startNode(i, { intervalSeconds: timing.intervalS, timeoutSeconds: Number((TIMEOUT_INTERVALS * timing.intervalS).toFixed(3)), windowSeconds: Math.max(0.3, 2 * timing.intervalS), priority: i === 0 ? 10 : 0, ...(cpu === undefined ? {} : { cpu }) });
    },
    async crash(i) {
      await nodes[i]!.kill('SIGKILL');
      nodes[i] = null;
    },
    async stop(i) {
      await nodes[i]!.kill('SIGTERM');
      nodes[i] = null;
    },
    role(i) {
      const n = nodes[i];
      if (n === null || n === undefined) return 'down';
      const r = n.currentRole();
      return r === 'primary' ? 'master' : r === 'standby' ? 'backup' : 'other';
    },
    pids: (i) => (nodes[i]?.proc.pid === undefined ? [] : [nodes[i]!.proc.pid!]),
    destroy() {
      clearInterval(poll);
      lab.destroy();
    },
  };
}

function keepalived(timing: { intervalS: number }): Cluster {
  const lab = Lab.create(2);
  const procs: (ChildProcess | null)[] = [null, null];
  const states: Role[] = ['down', 'down'];
  const events: Cluster['events'] = [];
  const vrid = 1 + Math.floor(Math.random() * 250);
  const conf = (i: number) => join(lab.dir, `keepalived-${i}.conf`);
  // Fresh pid files for every start: a killed instance's files (and zombie pids) make
  // keepalived refuse to start, believing it is already running.
  const starts = [0, 0];
  const vrrpPid = (i: number) => join(lab.dir, `vrrp-${i}-${starts[i]}.pid`);
  return {
    name: 'keepalived', lab, events,
    start(i, cpu) {
      // Both start BACKUP with nopreempt: like hastate's default (preempt: false), a restarted
      // node does not take the role back.
      writeFileSync(conf(i), [
        'global_defs {', `  router_id lab${lab.id}${i}`, '  vrrp_version 3', '}',
        'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', `  virtual_router_id ${vrid}`,
        `  priority ${i === 0 ? 100 : 90}`, `  advert_int ${timing.intervalS}`, '  nopreempt',
        '  virtual_ipaddress {', `    ${lab.subnet}.100/24`, '  }', '}', '',
      ].join('\n'));
      const pin = cpu === undefined ? [] : ['taskset', '-c', String(cpu)];
      starts[i]!++;
      const p = spawn('ip', ['netns', 'exec', lab.hosts[i]!, ...pin, 'keepalived', '-n', '-l', '-D', '--vrrp', '-f', conf(i), '-p', join(lab.dir, `k-${i}-${starts[i]}.pid`), '-r', vrrpPid(i)], { stdio: ['ignore', 'ignore', 'pipe'] });
      lab.procs.add(p);
      procs[i] = p;
      states[i] = 'other';
      let buffer = '';
      p.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const m = /Entering (MASTER|BACKUP|FAULT) STATE/.exec(line);
          if (!m || procs[i] !== p) continue;
          const to: Role = m[1] === 'MASTER' ? 'master' : m[1] === 'BACKUP' ? 'backup' : 'other';
          if (to !== states[i]) events.push({ i, to, atMs: performance.now() });
          states[i] = to;
        }
      });
    },
    async crash(i) {
      // The VRRP child sends priority 0 when its parent dies: kill it first, so this is a crash.
      const p = procs[i]!;
      const child = Number(readFileSync(vrrpPid(i), 'utf8'));
      process.kill(child, 'SIGKILL');
      p.kill('SIGKILL');
      procs[i] = null;
      states[i] = 'down';
      await exited(p);
    },
    async stop(i) {
      const p = procs[i]!;
      p.kill('SIGTERM');
      await exited(p);
      procs[i] = null;
      states[i] = 'down';
    },
    role: (i) => states[i]!,
    pids(i) {
      if (procs[i] === null) return [];
      try {
        return [procs[i]!.pid!, Number(readFileSync(vrrpPid(i), 'utf8'))];
      } catch {
        return [procs[i]!.pid!];
      }
    },
    destroy: () => lab.destroy(),
  };
}

const stable = (c: Cluster) => [0, 1].filter((i) => c.role(i) === 'master').length === 1 && [0, 1].filter((i) => c.role(i) === 'backup').length === 1;

async function failovers(make: () => Cluster, kind: 'crash' | 'planned', intervalS: number): Promise<number[]> {
  const c = make();
  const samples: number[] = [];
  try {
    c.start(0);
    c.start(1);
    for (let r = 0; r < ROUNDS; r++) {
      await waitFor(`${c.name}: one master (round ${r}, roles ${[0, 1].map((i) => c.role(i)).join('/')})`, () => stable(c), 30_000).catch((error) => {
        throw new Error(`${(error as Error).message}; roles now ${[0, 1].map((i) => c.role(i)).join('/')}; last events ${JSON.stringify(c.events.slice(-6))}`);
      });
      // A few adverts/heartbeats in the steady state, then the fault at a random phase of the
      // interval: a fixed delay after a restart would line the kill up with the master's
      // advert timer (keepalived's starts with the process) and bias the crash numbers.
      await sleep(Math.max(500, 3 * intervalS * 1000) + Math.random() * intervalS * 1000);
      const m = c.role(0) === 'master' ? 0 : 1;
      const b = 1 - m;
      const t0 = performance.now();
      await (kind === 'crash' ? c.crash(m) : c.stop(m));
      await waitFor(`${c.name}: takeover`, () => c.events.some((e) => e.i === b && e.to === 'master' && e.atMs >= t0), 30_000);
      samples.push(c.events.find((e) => e.i === b && e.to === 'master' && e.atMs >= t0)!.atMs - t0);
      c.start(m);
    }
  } finally {
    c.destroy();
  }
  return samples;
}

/** Both tools at once under the same fault; counts entries into master after the start. */
async function soak(intervalS: number, fault: 'cpu' | 'loss', durationMs: number, tools: ('hastate' | 'keepalived')[]) {
  const clusters = tools.map((t) => (t === 'hastate' ? ours({ intervalS }) : keepalived({ intervalS })));
  const hogs: ChildProcess[] = [];
  try {
    for (const c of clusters) {
      c.start(0, 0);
      c.start(1, 1);
    }
    for (const c of clusters) await waitFor(`${c.name}: one master`, () => stable(c) && c.role(0) === 'master', 30_000);
    const from = clusters.map((c) => c.events.length);
    if (fault === 'cpu') hogs.push(...clusters[0]!.lab.cpuHogs(0, 2));
    else for (const c of clusters) for (const i of [0, 1]) c.lab.loss(i, 10);
    await sleep(durationMs);
    return clusters.map((c, k) => {
      const n = c.events.slice(from[k]).filter((e) => e.to === 'master').length;
      return { tool: c.name, falseFailovers: n, perHour: (n * 3_600_000) / durationMs };
    });
  } finally {
    for (const h of hogs) h.kill('SIGKILL');
    for (const c of clusters) c.destroy();
  }
}

function procStats(pid: number): { cpuTicks: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssKb: Number(rss?.[1] ?? 0) };
}

async function idle(make: () => Cluster, durationMs: number) {
  const c = make();
  try {
    c.start(0);
    c.start(1);
    await waitFor(`${c.name}: one master`, () => stable(c), 30_000);
    await sleep(1_000);
    const m = c.role(0) === 'master' ? 0 : 1;
    const pids = c.pids(m);
    const before = pids.map(procStats);
    await sleep(durationMs);
    const after = pids.map(procStats);
    const ticks = after.reduce((s, a, k) => s + a.cpuTicks - before[k]!.cpuTicks, 0);
    return { cpuPercent: (ticks * 10 * 100) / durationMs, rssMb: after.reduce((s, a) => s + a.rssKb, 0) / 1024 };
  } finally {
    c.destroy();
  }
}

removeStaleLabs();
const report: Record<string, unknown> = { timeoutIntervals: TIMEOUT_INTERVALS, rounds: ROUNDS, soakMinutes: SOAK_MS / 60_000, longMinutes: LONG_MS / 60_000, timings: {} };
const rows: string[] = [];
const log = (s: string) => process.stdout.write(`${s}\n`);
for (const intervalS of INTERVALS) {
  const label = `${intervalS} s`;
  const t: Record<string, unknown> = {};
  for (const kind of (['crash', 'planned'] as const).filter((k) => SCENARIOS.has(k))) {
    const a = await failovers(() => ours({ intervalS }), kind, intervalS);
    const b = await failovers(() => keepalived({ intervalS }), kind, intervalS);
    t[kind] = { hastate: a, keepalived: b };
    const [a50, a99, b50, b99] = [pct(a, 0.5), pct(a, 0.99), pct(b, 0.5), pct(b, 0.99)];
    rows.push(`| ${label} | ${kind} failover p50 / p99 (ms) | ${a50.toFixed(0)} / ${a99.toFixed(0)} | ${b50.toFixed(0)} / ${b99.toFixed(0)} | ${(a50 / b50).toFixed(2)} / ${(a99 / b99).toFixed(2)} |`);
    log(rows.at(-1)!);
  }
  for (const fault of (['cpu', 'loss'] as const).filter((k) => SCENARIOS.has(k))) {
    const [a, b] = await soak(intervalS, fault, SOAK_MS, ['hastate', 'keepalived']);
    t[`soak-${fault}`] = [a, b];
    const ratio = b!.perHour === 0 ? (a!.perHour === 0 ? '1 (both 0)' : 'inf') : (a!.perHour / b!.perHour).toFixed(2);
    rows.push(`| ${label} | false failovers/hour, ${fault === 'cpu' ? "master's CPU saturated" : '10% loss'} (${SOAK_MS / 60_000} min) | ${a!.perHour.toFixed(0)} (${a!.falseFailovers}) | ${b!.perHour.toFixed(0)} (${b!.falseFailovers}) | ${ratio} |`);
    log(rows.at(-1)!);
  }
  if (!SCENARIOS.has('idle')) {
    (report.timings as Record<string, unknown>)[label] = t;
    continue;
  }
  const ia = await idle(() => ours({ intervalS }), 30_000);
  const ib = await idle(() => keepalived({ intervalS }), 30_000);
  t.idle = { hastate: ia, keepalived: ib };
  rows.push(`| ${label} | idle master CPU % / RSS MB | ${ia.cpuPercent.toFixed(2)} / ${ia.rssMb.toFixed(0)} | ${ib.cpuPercent.toFixed(2)} / ${ib.rssMb.toFixed(1)} | ${(ia.cpuPercent / Math.max(ib.cpuPercent, 0.001)).toFixed(1)} / ${(ia.rssMb / ib.rssMb).toFixed(0)} |`);
  log(rows.at(-1)!);
  (report.timings as Record<string, unknown>)[label] = t;
}
if (SCENARIOS.has('long')) {
  const long = await soak(0.1, 'cpu', LONG_MS, ['hastate', 'keepalived']);
  report.long = long;
  rows.push(`| 0.1 s | false failovers in ${LONG_MS / 60_000} min, master's CPU saturated | ${long[0]!.falseFailovers} | ${long[1]!.falseFailovers} | |`);
  log(rows.at(-1)!);
}
mkdirSync('.results', { recursive: true });
const partial = SCENARIOS.size < 6 || INTERVALS.join() !== '1,0.1' || COMPILED_CLI !== null;
writeFileSync(partial ? `.results/bench-lab-${[...SCENARIOS].join('-')}${COMPILED_CLI === null ? '' : '-compiled'}.json` : '.results/bench-lab.json', `${JSON.stringify(report, null, 2)}\n`);
log(['', '| timing | measure | hastate | keepalived 2.2.7 | ratio hastate/keepalived |', '|---|---|---|---|---|', ...rows].join('\n'));
process.exit(0);
