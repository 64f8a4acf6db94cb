/**
 * `npm run bench:idle`: what an idle hastate node costs next to the floor, the least a Node.js
 * process can do and look the same on the wire (scripts/bench/floor.mjs: node:dgram, one
 * 52-byte datagram per interval, reads the group).
 *
 * Per heartbeat interval, in one run: a compiled primary/standby pair (bin/hastate.js, loopback
 * multicast, state dirs in a temporary directory) and two floor processes on the same group
 * (their own port, so neither pair hears the other), all alive at once; after the pair has
 * settled and a warm-up, CPU (utime + stime, and the scheduler's ns run time) and RSS of each
 * process are sampled once a second over the window. Prints per-process numbers, the medians
 * per kind and the ratios hastate / floor. Linux only (/proc).
 *
 * Then the start-up side: the CLI's cold start to `electing` next to `node -e 0`, and the load
 * time and RSS of each eagerly imported dependency on its own (`--starts 0` skips both).
 *
 * `--compare DIR` runs a second pair from another checkout's build (DIR/bin/hastate.js, after
 * `npm ci && npm run build` there) in the same window, e.g. the base branch: before and after
 * measured side by side, under the same load.
 *
 * Usage: npm run bench:idle [-- --seconds 30] [--intervals 0.1,1] [--warmup-seconds 5] [--starts 10] [--compare DIR]
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOCK_TICKS_PER_S, median, sampleProc, type ProcSample } from './bench/proc-sample.ts';
import { Children, type Child } from './bench/children.ts';
import { cliColdStartMs, importCosts, nodeFloorStartMs } from './bench/startup.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin/hastate.js');
const FLOOR = join(ROOT, 'scripts/bench/floor.mjs');
/** Heartbeat timeout as a multiple of the interval: generous, so a loaded machine does not fail over mid-window. */
const TIMEOUT_INTERVALS = 4;
const SETTLE_DEADLINE_MS = 30_000;

function option(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(`bench:idle: --${name} must be a number in ${min}..${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    intervals: { type: 'string', default: '0.1,1' },
    'warmup-seconds': { type: 'string', default: '5' },
    starts: { type: 'string', default: '10' },
    compare: { type: 'string' },
  },
});
const windowS = option('seconds', values.seconds, 2, 3600);
const warmupS = option('warmup-seconds', values['warmup-seconds'], 0, 600);
const starts = option('starts', values.starts, 0, 100);
const intervalsS = values.intervals.split(',').map((s) => option('intervals', s, 0.01, 60));
if (process.platform !== 'linux') throw new Error('bench:idle reads /proc: Linux only');
if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('bench:idle runs the compiled CLI: run `npm run build` first');
/** The pairs to measure: this checkout's, and with --compare another build's. */
const PAIRS: { kind: string; cli: string }[] = [{ kind: 'hastate', cli: CLI }];
if (values.compare !== undefined) {
  if (!existsSync(join(values.compare, 'dist/src/cli/main.js'))) throw new Error(`bench:idle: --compare ${values.compare}: no dist/src/cli/main.js there; run \`npm ci && npm run build\` in it`);
  PAIRS.push({ kind: 'compare', cli: join(values.compare, 'bin/hastate.js') });
}

const children = new Children();
const scratch = mkdtempSync(join(tmpdir(), 'hastate-bench-idle-'));
children.onCleanup(() => rmSync(scratch, { recursive: true, force: true }));

interface Measured {
  label: string;
  /** 'hastate', 'compare' or 'floor'. */
  kind: string;
  cpuPercentTicks: number;
  cpuPercentRun: number;
  /** Median over the per-second samples of CPU % (scheduler run time). */
  cpuPercentRunMedian: number;
  rssMbMedian: number;
  ticks: number;
}

function configOf(nodeId: string, group: string, port: number, intervalS: number): string {
  const state = mkdtempSync(join(scratch, `state-${nodeId}-`));
  const file = join(scratch, `${nodeId}-${port}.yaml`);
  const lines = [
    'ha:',
    `  multicast_group: ${group}`,
    '  interface: 127.0.0.1',
    `  node_id: ${nodeId}`,
    `  state_dir: ${JSON.stringify(state)}`,
    `  election_window_seconds: ${Math.max(0.3, 3 * intervalS)}`,
    '  heartbeat:',
    `    port: ${port}`,
    `    interval_seconds: ${intervalS}`,
    `    timeout_seconds: ${TIMEOUT_INTERVALS * intervalS}`,
    'status:',
    '  host: 127.0.0.1',
    '  port: 0',
    'log:',
    '  level: info',
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** Resolves once the node's log reports `role` (a JSON role-change line), following `primaryId`. */
function roleReached(child: Child, role: string, primaryId: string): Promise<void> {
  return child.waitForLine((line) => {
    if (!line.startsWith('{')) return false;
    try {
      const rec = JSON.parse(line) as { event?: string; to?: string; primaryId?: string };
      return rec.event === 'role-change' && rec.to === role && rec.primaryId === primaryId;
    } catch {
      return false;
    }
  }, SETTLE_DEADLINE_MS, `${child.label} reaching ${role}`);
}

async function measure(intervalS: number): Promise<Measured[]> {
  const r = () => 1 + Math.floor(Math.random() * 250);
  const group = `239.255.${r()}.${r()}`;
  // One port per pair and one for the floors: no process hears another pair's datagrams.
  const port = 20_000 + 4 * Math.floor(Math.random() * 5_000);
  const intervalMs = Math.round(intervalS * 1000);
  const nodes = PAIRS.flatMap(({ kind, cli }, i) =>
    ['127.0.0.2', '127.0.0.3'].map((id) => children.spawn(`${kind} ${id}`, kind, [cli, 'run', '--config', configOf(id, group, port + i, intervalS), '--log', 'json'])),
  );
  const floorArgs = [FLOOR, '--group', group, '--port', String(port + 3), '--interface', '127.0.0.1', '--interval-ms', String(intervalMs)];
  const floors = [children.spawn('floor 1', 'floor', floorArgs), children.spawn('floor 2', 'floor', floorArgs)];
  const all = [...nodes, ...floors];
  // 127.0.0.2 outranks 127.0.0.3 at equal priority: it is the primary of each pair.
  await Promise.all([
    ...nodes.map((n, i) => roleReached(n, i % 2 === 0 ? 'primary' : 'standby', '127.0.0.2')),
    ...floors.map((f) => f.waitForLine((l) => l === 'floor: up', SETTLE_DEADLINE_MS, `${f.label} up`)),
  ]);
  const roleLines = (c: Child) => c.lines.filter((l) => l.includes('"role-change"'));
  const before = new Set(nodes.flatMap(roleLines));
  await sleep(warmupS * 1000);

  const series = new Map<Child, ProcSample[]>(all.map((c) => [c, [sampleProc(c.pid)]]));
  const t0 = performance.now();
  for (let s = 1; s <= windowS; s++) {
    // Sample on a schedule from t0, so a late wake-up does not shift every later sample.
    await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
    for (const c of all) series.get(c)!.push(sampleProc(c.pid));
  }
  const elapsedS = (performance.now() - t0) / 1000;
  const changes = nodes.flatMap(roleLines).filter((l) => !before.has(l));
  if (changes.length > 0) console.warn(`warning: role changes during the ${intervalS} s window (the numbers include them):\n${changes.join('\n')}`);
  await children.stopAll();

  return all.map((c) => {
    const xs = series.get(c)!;
    const first = xs[0]!;
    const last = xs[xs.length - 1]!;
    const perSecond = xs.slice(1).map((x, i) => ((x.runNs - xs[i]!.runNs) / 1e9) * 100);
    return {
      label: c.label,
      kind: c.kind,
      ticks: last.cpuTicks - first.cpuTicks,
      cpuPercentTicks: ((last.cpuTicks - first.cpuTicks) / CLOCK_TICKS_PER_S / elapsedS) * 100,
      cpuPercentRun: ((last.runNs - first.runNs) / 1e9 / elapsedS) * 100,
      cpuPercentRunMedian: median(perSecond),
      rssMbMedian: median(xs.map((x) => x.rssKb / 1024)),
    };
  });
}

/**
 * Packages the `run` command imports whatever the configuration (ioredis even on multicast),
 * and the compiled CLI's own code; each measured alone and after all the others.
 */
const EAGER = ['ioredis', 'prom-client', 'pino', 'yaml', 'xstate'];
const CLI_CODE = join(ROOT, 'dist/src/cli/run-command.js');

async function startupSide(): Promise<void> {
  const floorMs = nodeFloorStartMs(starts);
  const r = () => 1 + Math.floor(Math.random() * 250);
  const cliMs = await cliColdStartMs(children, CLI, (i) => configOf('127.0.0.2', `239.255.${r()}.${r()}`, 20_000 + 2 * Math.floor(Math.random() * 10_000) + (i % 2), 1), starts);
  console.log(`\ncold start, median of ${starts}: hastate run (compiled) to electing ${cliMs.toFixed(0)} ms; node -e 0 to exit ${floorMs.toFixed(0)} ms`);
  console.log(`\neager imports, in fresh processes, median of ${starts}: alone (against importing nothing) and last (after the other packages listed)`);
  console.log('| module | alone: load ms | alone: RSS MB | last: load ms | last: RSS MB |');
  console.log('|---|---|---|---|---|');
  for (const c of importCosts(EAGER, starts, ROOT)) console.log(`| ${c.module} | ${c.aloneMs.toFixed(0)} | ${c.aloneMb.toFixed(1)} | ${c.marginalMs.toFixed(0)} | ${c.marginalMb.toFixed(1)} |`);
  const [all] = importCosts([CLI_CODE], starts, ROOT);
  console.log(`| all of ${CLI_CODE.slice(ROOT.length + 1)} (what \`hastate run\` loads) | ${all!.aloneMs.toFixed(0)} | ${all!.aloneMb.toFixed(1)} | | |`);
}

try {
  console.log(`bench:idle: window ${windowS} s after ${warmupS} s of warm-up, heartbeat timeout ${TIMEOUT_INTERVALS} x interval, node ${process.version}`);
  const summary: string[] = [];
  for (const intervalS of intervalsS) {
    const rows = await measure(intervalS);
    console.log(`\ninterval ${intervalS} s`);
    console.log('| process | CPU % (utime+stime, ticks) | CPU % (run time) | CPU % median of 1 s samples | RSS MB median |');
    console.log('|---|---|---|---|---|');
    for (const m of rows) {
      console.log(`| ${m.label} | ${m.cpuPercentTicks.toFixed(2)} (${m.ticks}) | ${m.cpuPercentRun.toFixed(3)} | ${m.cpuPercentRunMedian.toFixed(3)} | ${m.rssMbMedian.toFixed(1)} |`);
    }
    const of = (kind: string, f: (m: Measured) => number) => median(rows.filter((m) => m.kind === kind).map(f));
    const cpuF = of('floor', (m) => m.cpuPercentRun);
    const cpuMedF = of('floor', (m) => m.cpuPercentRunMedian);
    const rssF = of('floor', (m) => m.rssMbMedian);
    for (const { kind } of PAIRS) {
      const cpu = of(kind, (m) => m.cpuPercentRun);
      const cpuMed = of(kind, (m) => m.cpuPercentRunMedian);
      const rss = of(kind, (m) => m.rssMbMedian);
      summary.push(`| ${intervalS} s | ${kind} | ${cpu.toFixed(3)} | ${cpuF.toFixed(3)} | ${(cpu / cpuF).toFixed(2)} | ${(cpuMed / cpuMedF).toFixed(2)} | ${rss.toFixed(1)} | ${rssF.toFixed(1)} | ${(rss - rssF).toFixed(1)} |`);
    }
  }
  console.log('\nper node, median of the two of each kind; CPU from run time over the whole window, and the ratio of the medians of 1 s samples (robust to a single busy second):');
  console.log('| interval | build | CPU % | floor CPU % | ratio (target <= 1.5) | ratio of 1 s medians | RSS MB | floor RSS MB | difference MB (target <= 15) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const line of summary) console.log(line);
  if (starts > 0) await startupSide();
} finally {
  await children.stopAll();
  children.cleanup();
}
