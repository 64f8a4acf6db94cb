/**
 * Failover when the primary's *process* dies while its host lives, in the chaos lab (network
 * namespaces on a bridge, real multicast and real VRRP), hastate vs keepalived at equal timings
 * (interval I, timeout 3.65 I, as scripts/bench-lab.ts explains):
 *
 * - hastate, supervised: both nodes run `hastate run --supervise`; the kill -9 hits the node
 *   process (the supervisor's child), and the supervisor sends its farewell and restarts it.
 * - hastate, hook: plain `hastate run`; after the kill -9 the bench runs `hastate farewell` as a
 *   fresh process in the host's namespace, as systemd's ExecStopPost= does (so its start-up is
 *   in the number), then restarts the node.
 * - keepalived: kill -9 of the VRRP child while its parent lives (the parent respawns it);
 *   nothing announces the death, so the backup waits for the master-down interval.
 *
 * The time is from the kill to the standby's log line saying it is primary (or keepalived's
 * "Entering MASTER STATE"), p50 / p99 over N rounds, the kill at a random phase of the interval.
 * Needs root, iproute2, nftables, keepalived. Writes .results/bench-process-crash.json.
 *
 * Usage: npx tsx scripts/bench-process-crash.ts [--rounds 20] [--intervals 1,0.1]
 *          [--variants supervised,hook,keepalived] [--compiled]
 */
import { onStopSignal } from './bench/stop-signals.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Lab, labAvailable, removeStaleLabs, waitFor } from '../test/chaos/lab.ts';
import { CLI, type NodeProcess } from '../test/integration/cluster.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, intervals: { type: 'string', default: '1,0.1' }, variants: { type: 'string', default: 'supervised,hook,keepalived' }, compiled: { type: 'boolean', default: false } } });
const COMPILED_CLI = values.compiled ? join(import.meta.dirname, '../dist/src/cli/main.js') : null;
if (COMPILED_CLI !== null && !existsSync(COMPILED_CLI)) throw new Error('--compiled: run npm run build first (no dist/src/cli/main.js)');
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 1000) throw new Error('--rounds must be an integer from 1 to 1000');
const INTERVALS = values.intervals.split(',').map(Number);
if (INTERVALS.some((x) => !(x >= 0.01 && x <= 10))) throw new Error('--intervals: comma-separated seconds in 0.01..10');
const VARIANTS = values.variants.split(',');
for (const v of VARIANTS) if (!['supervised', 'hook', 'keepalived'].includes(v)) throw new Error(`--variants: unknown variant ${v} (supervised, hook, keepalived)`);
const TIMEOUT_INTERVALS = 3.65;
const ROUND_DEADLINE_MS = 60_000;
const lab0 = labAvailable();
if (!lab0.ok) throw new Error(`the lab needs root, iproute2 and nftables: ${lab0.why}`);

type Role = 'master' | 'backup' | 'other';
interface Cluster {
  name: string;
  /** Kills host i's process as the scenario says and arranges its return; resolves once it is killed. */
  crash(i: number): Promise<void>;
  role(i: number): Role;
  /** performance.now() of host i's entries into master. */
  masterAt: number[][];
  /** Supervised only: ms from the last kill to the farewell's log line (wall clock), once it is logged. */
  farewellAfterKillMs?(): number | null;
  destroy(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const exited = (p: ChildProcess) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once('exit', () => r())));

function hastate(intervalS: number, mode: 'supervised' | 'hook'): Cluster {
  const lab = Lab.create(2);
  lab.compiledCli = COMPILED_CLI;
  const nodes: NodeProcess[] = [];
  const masterAt: number[][] = [[], []];
  const seen = [0, 0];
  const configOf = (i: number) => join(lab.dir, `${lab.ip(i)}.yaml`);
  const start = (i: number) => {
    seen[i] = 0;
    nodes[i] = lab.startNode(i, { intervalSeconds: intervalS, timeoutSeconds: Number((TIMEOUT_INTERVALS * intervalS).toFixed(3)), windowSeconds: Math.max(0.3, 2 * intervalS), priority: i === 0 ? 10 : 0, supervise: mode === 'supervised' });
  };
  const poll = setInterval(() => {
    nodes.forEach((n, i) => {
      const changes = n.roleChanges();
      for (; seen[i]! < changes.length; seen[i]!++) if (changes[seen[i]!]!.to === 'primary' && changes[seen[i]!]!.from !== 'primary') masterAt[i]!.push(changes[seen[i]!]!.seenAtMs);
    });
  }, 1);
  start(0);
  start(1);
  let killed: { i: number; wallMs: number } | null = null;
  return {
    ...(mode === 'supervised'
      ? {
          farewellAfterKillMs() {
            if (killed === null) return null;
            const { i, wallMs } = killed;
            const line = nodes[i]!.logs.find((l) => l.event === 'farewell' && (l.time as number) >= wallMs);
            return line === undefined ? null : (line.time as number) - wallMs;
          },
        }
      : {}),
    name: mode === 'supervised' ? 'hastate --supervise' : 'hastate + farewell hook',
    masterAt,
    role(i) {
      const r = nodes[i]!.currentRole();
      return r === 'primary' ? 'master' : r === 'standby' ? 'backup' : 'other';
    },
    async crash(i) {
      const n = nodes[i]!;
      if (mode === 'supervised') {
        const child = n.logs.filter((l) => l.event === 'supervisor-start').at(-1)!.childPid as number;
        killed = { i, wallMs: Date.now() };
        process.kill(child, 'SIGKILL');
        return;
      }
      await n.kill('SIGKILL');
      // ExecStopPost: a fresh process, once the node's is reaped; then Restart=.
      const cli = COMPILED_CLI === null ? ['--import', 'tsx', CLI] : [COMPILED_CLI];
      const hook = spawn('ip', ['netns', 'exec', lab.hosts[i]!, process.execPath, ...cli, 'farewell', '--config', configOf(i)], { stdio: 'ignore' });
      lab.procs.add(hook);
      void exited(hook).then(() => start(i));
    },
    destroy() {
      clearInterval(poll);
      lab.destroy();
    },
  };
}

function keepalived(intervalS: number): Cluster {
  const lab = Lab.create(2);
  const states: Role[] = ['other', 'other'];
  const masterAt: number[][] = [[], []];
  const vrid = 1 + Math.floor(Math.random() * 250);
  const vrrpPid = (i: number) => join(lab.dir, `vrrp-${i}.pid`);
  for (const i of [0, 1]) {
    const conf = join(lab.dir, `keepalived-${i}.conf`);
    writeFileSync(conf, [
      'global_defs {', `  router_id lab${lab.id}${i}`, '  vrrp_version 3', '}',
      'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', `  virtual_router_id ${vrid}`,
      `  priority ${i === 0 ? 100 : 90}`, `  advert_int ${intervalS}`, '  nopreempt',
      '  virtual_ipaddress {', `    ${lab.subnet}.100/24`, '  }', '}', '',
    ].join('\n'));
    const p = spawn('ip', ['netns', 'exec', lab.hosts[i]!, 'keepalived', '-n', '-l', '-D', '--vrrp', '-f', conf, '-p', join(lab.dir, `k-${i}.pid`), '-r', vrrpPid(i)], { stdio: ['ignore', 'ignore', 'pipe'] });
    lab.procs.add(p);
    let buffer = '';
    p.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const m = /Entering (MASTER|BACKUP|FAULT) STATE/.exec(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (!m) continue;
        const to: Role = m[1] === 'MASTER' ? 'master' : m[1] === 'BACKUP' ? 'backup' : 'other';
        if (to === 'master' && states[i] !== 'master') masterAt[i]!.push(performance.now());
        states[i] = to;
      }
    });
  }
  return {
    name: 'keepalived',
    masterAt,
    role: (i) => states[i]!,
    async crash(i) {
      // The VRRP child alone; its parent lives on and starts a new one, which comes up as backup.
      process.kill(Number(readFileSync(vrrpPid(i), 'utf8')), 'SIGKILL');
      states[i] = 'other';
    },
    destroy: () => lab.destroy(),
  };
}

async function rounds(c: Cluster, intervalS: number): Promise<{ samples: number[]; farewellMs: number[] }> {
  const samples: number[] = [];
  const farewellMs: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      await waitFor(`${c.name}: one master and one backup (round ${r})`, () => [c.role(0), c.role(1)].sort().join() === 'backup,master', ROUND_DEADLINE_MS);
      // Steady state for a few intervals, then the kill at a random phase of the interval.
      await sleep(Math.max(500, 3 * intervalS * 1000) + Math.random() * intervalS * 1000);
      const m = c.role(0) === 'master' ? 0 : 1;
      const b = 1 - m;
      const t0 = performance.now();
      await c.crash(m);
      await waitFor(`${c.name}: takeover`, () => c.masterAt[b]!.some((t) => t >= t0), ROUND_DEADLINE_MS);
      samples.push(c.masterAt[b]!.find((t) => t >= t0)! - t0);
      if (c.farewellAfterKillMs !== undefined) {
        await waitFor(`${c.name}: the farewell's log line`, () => c.farewellAfterKillMs!() !== null, ROUND_DEADLINE_MS);
        farewellMs.push(c.farewellAfterKillMs()!);
      }
    }
  } finally {
    c.destroy();
  }
  return { samples, farewellMs };
}

removeStaleLabs();
/** The lab of the variant being measured: a signal must not leave its namespaces and nodes behind. */
let current: { destroy(): void } | null = null;
onStopSignal(() => current?.destroy());
const report: Record<string, Record<string, number[]>> = {};
const rows: string[] = [];
for (const intervalS of INTERVALS) {
  report[`${intervalS} s`] = {};
  for (const v of VARIANTS) {
    const c = v === 'keepalived' ? keepalived(intervalS) : hastate(intervalS, v as 'supervised' | 'hook');
    current = c;
    const { samples: xs, farewellMs: fs } = await rounds(c, intervalS);
    current = null;
    report[`${intervalS} s`]![c.name] = xs;
    if (fs.length > 0) report[`${intervalS} s`]![`${c.name}: kill to farewell sent`] = fs;
    const split = fs.length > 0 ? `${pct(fs, 0.5).toFixed(0)} / ${pct(fs, 0.99).toFixed(0)}` : '';
    rows.push(`| ${intervalS} s | ${c.name} | ${pct(xs, 0.5).toFixed(0)} / ${pct(xs, 0.99).toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${split} |`);
    process.stdout.write(`${rows.at(-1)}\n`);
  }
}
mkdirSync('.results', { recursive: true });
writeFileSync(`.results/bench-process-crash${COMPILED_CLI === null ? '' : '-compiled'}.json`, `${JSON.stringify({ rounds: ROUNDS, timeoutIntervals: TIMEOUT_INTERVALS, samplesMs: report }, null, 2)}\n`);
process.stdout.write(['', `kill -9 of the primary's process, ${ROUNDS} rounds, time to the standby's takeover:`, '| interval | what dies | ms p50 / p99 | max ms | of which kill to farewell sent, p50 / p99 |', '|---|---|---|---|---|', ...rows].join('\n') + '\n');
process.exit(0);
