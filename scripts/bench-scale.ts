/**
 * Many nodes on one segment (issue 14, item 2): N processes of the compiled CLI on loopback
 * multicast, for each N and heartbeat interval I (timeout T = 3 I unless told):
 * 1. a steady window: per-node CPU (utime + stime from /proc over the window) and RSS,
 *    datagrams sent and received per node per second (GET /status counters), drops (the node's
 *    own counters and the kernel's at its sockets), and false failovers (any role-change log line
 *    in the window);
 * 2. crash rounds: kill -9 of the primary at a random phase of the interval, time from the kill
 *    to the first `-> primary` role-change line of a survivor (monotonic clock), against T + I;
 *    the killed node restarts with its state directory and the cluster settles between rounds.
 * Prints one table and writes .results/bench-scale.json.
 * Usage: npm run bench:scale [-- --nodes 2,8,16,32 --intervals 1,0.1 --seconds 300 --rounds 10
 *        --timeout-intervals 3 --window-intervals 1 --state-root /dev/shm]
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { randomNetwork, type NodeProcess } from '../test/integration/cluster.ts';
import type { NodeStatus } from '../src/runtime/status.ts';
import { CLOCK_TICKS_PER_S, ensureBuild, hostRcvbufErrors, procSample, startCompiledNode, tempDir, type ScaleSpec } from './scale-nodes.ts';

const USAGE = 'usage: npm run bench:scale [-- --nodes 2,8,16,32 --intervals 1,0.1 --seconds 300 --rounds 10 --timeout-intervals 3 --window-intervals 1 --state-root DIR]';
function numbers(name: string, text: string, min: number, max: number, integer: boolean): number[] {
  const xs = text.split(',').map((s) => Number(s.trim()));
  for (const [i, x] of xs.entries()) {
    if (!Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
      throw new Error(`--${name}: item ${i + 1} "${text.split(',')[i]}" is not ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
    }
  }
  return xs;
}
/** --state-root: where the nodes' state directories go ("" = with the configs in the OS temp dir). */
function stateRoot(dir: string): string {
  if (dir === '') return '';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--state-root: "${dir}" is not a directory`);
  return dir;
}
function options() {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '2,8,16,32' },
      intervals: { type: 'string', default: '1,0.1' },
      seconds: { type: 'string', default: '300' },
      rounds: { type: 'string', default: '10' },
      'timeout-intervals': { type: 'string', default: '3' },
      'window-intervals': { type: 'string', default: '1' },
      'state-root': { type: 'string', default: '' },
    },
  });
  const one = (name: keyof typeof values, min: number, max: number, integer: boolean) => {
    const xs = numbers(name, values[name], min, max, integer);
    if (xs.length !== 1) throw new Error(`--${name}: one value, not a list ("${values[name]}")`);
    return xs[0]!;
  };
  return {
    nodes: numbers('nodes', values.nodes, 2, 250, true),
    intervalsS: numbers('intervals', values.intervals, 0.01, 60, false),
    steadyS: one('seconds', 1, 86_400, false),
    rounds: one('rounds', 0, 1000, true),
    timeoutIntervals: one('timeout-intervals', 1.01, 100, false),
    windowIntervals: one('window-intervals', 0.1, 100, false),
    stateRoot: stateRoot(values['state-root']),
  };
}
const opts = (() => {
  try {
    return options();
  } catch (error) {
    process.stderr.write(`bench:scale: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
})();
const { nodes: NODES, intervalsS: INTERVALS_S, steadyS: STEADY_S, rounds: ROUNDS, timeoutIntervals: TIMEOUT_INTERVALS, windowIntervals: WINDOW_INTERVALS, stateRoot: STATE_ROOT } = opts;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!);
const median = (xs: number[]) => pct(xs, 0.5);
const log = (s: string) => process.stdout.write(`${s}\n`);

/** One primary, every other node standby following it, as their /status says; bounded by the deadline. */
async function settled(nodes: NodeProcess[], what: string, deadlineMs: number): Promise<NodeProcess> {
  const end = performance.now() + deadlineMs;
  let last = 'no answer yet';
  while (performance.now() < end) {
    const st = await Promise.all(nodes.map((n) => n.status().catch((e: Error) => e)));
    const ok = st.filter((s): s is NodeStatus => !(s instanceof Error));
    const primaries = ok.filter((s) => s.role === 'primary');
    if (ok.length === nodes.length && primaries.length === 1 && ok.every((s) => s === primaries[0] || (s.role === 'standby' && s.primaryId === primaries[0]!.nodeId))) {
      return nodes[st.indexOf(primaries[0]!)]!;
    }
    last = st.map((s, i) => `${nodes[i]!.nodeId}=${s instanceof Error ? s.message : `${s.role}/${s.primaryId}`}`).join(' ');
    const dead = nodes.find((n) => n.proc.exitCode !== null || n.proc.signalCode !== null);
    if (dead !== undefined) throw new Error(`${what}: ${dead.nodeId} exited (${dead.proc.exitCode ?? dead.proc.signalCode}):\n${dead.tail()}`);
    await sleep(200);
  }
  throw new Error(`${what}: not one primary with all others following it within ${deadlineMs} ms; last: ${last}`);
}

/** GET /status, retried for up to 20 s: with 32 nodes on 2 CPUs one answer can miss its 2 s timeout. */
async function statusOf(n: NodeProcess): Promise<NodeStatus> {
  const end = performance.now() + 20_000;
  for (;;) {
    try {
      return await n.status();
    } catch (error) {
      if (performance.now() >= end) throw new Error(`${n.nodeId}: GET /status failed for 20 s: ${(error as Error).message}`);
      await sleep(250);
    }
  }
}

interface Steady {
  cpuPercentMedian: number; cpuPercentMax: number; rssMbMedian: number;
  sentPerSMedian: number; receivedPerSMedian: number; falseFailovers: number; roleChanges: number;
  droppedByNode: number; droppedByKernelAtSockets: number; hostRcvbufErrors: number;
}

async function steady(nodes: NodeProcess[], seconds: number): Promise<Steady> {
  const fromLine = nodes.map((n) => n.logs.length);
  const s0 = await Promise.all(nodes.map(statusOf));
  const p0 = nodes.map((n) => procSample(n.proc.pid!));
  const host0 = hostRcvbufErrors();
  const t0 = performance.now();
  await sleep(seconds * 1000); // the measurement window itself, not a wait for something to settle
  const p1 = nodes.map((n) => procSample(n.proc.pid!));
  const elapsedS = (performance.now() - t0) / 1000;
  const host1 = hostRcvbufErrors();
  const s1 = await Promise.all(nodes.map(statusOf));
  const dead = nodes.find((n) => n.proc.exitCode !== null || n.proc.signalCode !== null);
  if (dead !== undefined) throw new Error(`steady window: ${dead.nodeId} exited:\n${dead.tail()}`);
  const blind = nodes.find((_, i) => p1[i]!.udpSockets === 0);
  if (blind !== undefined) throw new Error(`steady window: /proc/net/udp lists no socket of ${blind.nodeId} (pid ${blind.proc.pid}), so its kernel drops cannot be read`);
  const cpu = p1.map((p, i) => ((p.cpuTicks - p0[i]!.cpuTicks) / CLOCK_TICKS_PER_S / elapsedS) * 100);
  const changes = nodes.flatMap((n, i) => n.logs.slice(fromLine[i]).filter((l) => l.event === 'role-change'));
  for (const c of changes) log(`  role change in the steady window: ${c.msg}`);
  return {
    cpuPercentMedian: median(cpu),
    cpuPercentMax: Math.max(...cpu),
    rssMbMedian: median(p1.map((p) => p.rssKb / 1024)),
    sentPerSMedian: median(s1.map((s, i) => (s.packets.sent - s0[i]!.packets.sent) / elapsedS)),
    receivedPerSMedian: median(s1.map((s, i) => (s.packets.received - s0[i]!.packets.received) / elapsedS)),
    // One false failover = a node leaving the role it had settled in (standby -> electing -> standby is one).
    falseFailovers: changes.filter((c) => c.from === 'standby' || c.from === 'primary').length,
    roleChanges: changes.length,
    droppedByNode: s1.reduce((sum, s, i) => sum + s.droppedPackets.total - s0[i]!.droppedPackets.total, 0),
    droppedByKernelAtSockets: p1.reduce((sum, p, i) => sum + p.socketDrops - p0[i]!.socketDrops, 0),
    hostRcvbufErrors: host1 - host0,
  };
}

/** Kills the primary ROUNDS times; returns the kill-to-takeover times (ms) and rounds where more than one survivor took over. */
async function crashes(nodes: NodeProcess[], make: (i: number) => Promise<NodeProcess>, intervalS: number, timeoutS: number) {
  const samples: number[] = [];
  const persistMs: number[] = [];
  let doubleTakeovers = 0;
  const settleMs = 60_000 + nodes.length * 2_000;
  for (let r = 0; r < ROUNDS; r++) {
    const primary = await settled(nodes, `crash round ${r + 1}: before the kill`, settleMs);
    const k = nodes.indexOf(primary);
    const survivors = nodes.filter((n) => n !== primary);
    // A random phase of the interval, so the kill is not in step with the heartbeat timer.
    await sleep(Math.random() * intervalS * 1000);
    const from = survivors.map((n) => n.logs.length);
    const t0 = performance.now();
    const killWallMs = Date.now(); // only to place the nodes' own log timestamps (wall clock)
    primary.proc.kill('SIGKILL');
    const deadlineMs = 10 * (timeoutS + intervalS) * 1000 + 10_000;
    const first = await Promise.any(survivors.map((n, i) => n.waitForRole('primary', deadlineMs, from[i]))).catch(() => {
      throw new Error(`crash round ${r + 1}: no survivor became primary within ${deadlineMs} ms`);
    });
    samples.push(first.seenAtMs - t0);
    // The takeover's durable epoch write, logged just before its role-change line.
    const t = survivors.findIndex((n) => n.logs.includes(first));
    const persist = survivors[t]!.logs.slice(from[t], survivors[t]!.logs.indexOf(first)).findLast((l) => l.persistMs !== undefined);
    persistMs.push(typeof persist?.persistMs === 'number' ? persist.persistMs : NaN);
    await primary.exited;
    nodes[k] = await make(k); // same id and state directory: it rejoins with its durable epoch
    await settled(nodes, `crash round ${r + 1}: after the restart`, settleMs);
    const took = survivors.filter((n, i) => n.logs.slice(from[i]).some((l) => l.event === 'role-change' && l.to === 'primary'));
    const ms = first.seenAtMs - t0;
    log(`  round ${r + 1}: ${ms.toFixed(0)} ms${took.length > 1 ? ` (${took.length} survivors took over)` : ''}`);
    if (took.length > 1) doubleTakeovers++;
    if (took.length > 1 || ms > (timeoutS + intervalS) * 1000) {
      // From the kill on: role changes and epoch writes (persistMs), by the node's own clock and
      // as seen here, to tell a late timer or a slow epoch write from a late pipe.
      for (const n of took) {
        for (const l of n.logs.slice(from[survivors.indexOf(n)]).filter((x) => x.event === 'role-change' || x.persistMs !== undefined)) {
          const own = typeof l.time === 'number' ? `node clock +${l.time - killWallMs} ms, ` : '';
          log(`    ${n.nodeId} ${own}seen +${(l.seenAtMs - t0).toFixed(0)} ms: ${l.msg}${l.persistMs === undefined ? '' : ` (write ${String(l.persistMs)} ms)`}`);
        }
      }
    }
  }
  return { samples, persistMs, doubleTakeovers };
}

async function run(n: number, intervalS: number) {
  const timeoutS = intervalS * TIMEOUT_INTERVALS;
  const windowS = intervalS * WINDOW_INTERVALS;
  const net = randomNetwork();
  const tmp = tempDir(`hastate-bench-scale-${n}-`);
  const dir = tmp.path;
  // The takeover's epoch write (fsync) is on the failover path: --state-root picks its disk.
  const states = STATE_ROOT === '' ? { path: dir, release: () => {} } : tempDir(`hastate-bench-scale-${n}-`, STATE_ROOT);
  const spec = (i: number): ScaleSpec => ({
    ...net, nodeId: `127.0.0.${i + 2}`, intervalSeconds: intervalS, timeoutSeconds: timeoutS,
    windowSeconds: windowS, stateDir: join(states.path, `state-${i}`),
  });
  const make = (i: number) => startCompiledNode(spec(i), dir);
  const nodes: NodeProcess[] = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await make(i));
    await settled(nodes, `${n} nodes at ${intervalS} s: first election`, 60_000 + n * 5_000);
    const s = await steady(nodes, STEADY_S);
    const c = await crashes(nodes, make, intervalS, timeoutS);
    const boundMs = (timeoutS + intervalS) * 1000;
    const maxMs = c.samples.length === 0 ? NaN : Math.max(...c.samples);
    return {
      nodes: n, intervalS, timeoutS, windowS, steadySeconds: STEADY_S, ...s,
      failoverMs: c.samples, failoverP50Ms: pct(c.samples, 0.5), failoverP99Ms: pct(c.samples, 0.99), failoverMaxMs: maxMs,
      boundMs, withinBound: c.samples.length > 0 && maxMs <= boundMs, doubleTakeovers: c.doubleTakeovers,
      takeoverEpochWriteMs: c.persistMs, takeoverEpochWriteMaxMs: pct(c.persistMs.filter((x) => !Number.isNaN(x)), 1),
    };
  } finally {
    await Promise.all(nodes.map((x) => (x.proc.exitCode === null && x.proc.signalCode === null ? x.kill('SIGKILL') : x.exited)));
    tmp.release();
    states.release();
  }
}

ensureBuild(log);
log(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; steady ${STEADY_S} s, ${ROUNDS} crash rounds, T = ${TIMEOUT_INTERVALS} I, W = ${WINDOW_INTERVALS} I, state dirs in ${STATE_ROOT === '' ? tmpdir() : STATE_ROOT}`);
const results = [];
const f = (x: number, d = 0) => (Number.isNaN(x) ? '-' : x.toFixed(d));
const rows = ['| N | interval | CPU % per node (median) | RSS MB (median) | datagrams/s per node sent / received | false failovers (role changes) | failover p50 / p99 / max ms | within T + I |', '|---|---|---|---|---|---|---|---|'];
for (const intervalS of INTERVALS_S) {
  for (const n of NODES) {
    log(`${n} nodes, interval ${intervalS} s:`);
    const r = await run(n, intervalS);
    results.push(r);
    rows.push(`| ${n} | ${intervalS} s | ${f(r.cpuPercentMedian, 2)} | ${f(r.rssMbMedian)} | ${f(r.sentPerSMedian, 1)} / ${f(r.receivedPerSMedian, 1)} | ${r.falseFailovers} (${r.roleChanges}) | ${f(r.failoverP50Ms)} / ${f(r.failoverP99Ms)} / ${f(r.failoverMaxMs)} | ${r.withinBound ? 'yes' : 'no'} (${f(r.boundMs)} ms) |`);
    log(`  ${rows.at(-1)}\n  drops: by the nodes ${r.droppedByNode}, by the kernel at their sockets ${r.droppedByKernelAtSockets}, host RcvbufErrors ${r.hostRcvbufErrors}; CPU max ${f(r.cpuPercentMax, 2)} %; rounds with 2+ takeovers ${r.doubleTakeovers}; takeover epoch write max ${f(r.takeoverEpochWriteMaxMs)} ms`);
  }
}
mkdirSync('.results', { recursive: true });
const out = '.results/bench-scale.json';
writeFileSync(out, `${JSON.stringify({ node: process.version, cpus: cpus().length, loadAverageAtEnd: loadavg(), timeoutIntervals: TIMEOUT_INTERVALS, windowIntervals: WINDOW_INTERVALS, stateRoot: STATE_ROOT === '' ? tmpdir() : STATE_ROOT, rounds: ROUNDS, results }, null, 2)}\n`);
log(['', ...rows, '', `written to ${out}`].join('\n'));
process.exit(0);
