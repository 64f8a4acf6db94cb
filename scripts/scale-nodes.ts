/**
 * Node processes of the compiled CLI for bench:scale: spawning (with a kill switch that fires if
 * this process dies), a fresh build when the sources changed, and what /proc says about each one
 * (CPU ticks, RSS, kernel drops at its sockets). Log lines and status waits are NodeProcess's
 * from test/integration/cluster.ts.
 */
import { onStopSignal } from './bench/stop-signals.ts';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, NodeProcess, type NodeSpec } from '../test/integration/cluster.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/hastate.js');
const COMPILED = join(ROOT, 'dist/src/cli/main.js');

/** Every node this process started and has not seen exit: what the exit and signal handlers kill. */
const live = new Set<NodeProcess>();

/** Temporary directories (configs, state) to remove on the way out, whatever the way. */
const tempDirs = new Set<string>();

function killAll() {
  for (const n of live) if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

/** A fresh temporary directory, removed when this process exits (or by `release`). */
export function tempDir(prefix: string, root = tmpdir()): { path: string; release: () => void } {
  installExitHandlers();
  const path = mkdtempSync(join(root, prefix));
  tempDirs.add(path);
  return { path, release: () => (rmSync(path, { recursive: true, force: true }), tempDirs.delete(path)) };
}
/** Installed with the first node or directory, so that importing this file (a test does) changes nothing. */
let handlersInstalled = false;
function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAll);
  onStopSignal((signal) => {
    process.stderr.write(`bench:scale: ${signal}, killing ${live.size} node processes\n`);
    killAll();
  });
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (f.endsWith('.ts')) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when dist/ is missing or older than src/ or machines/ (bounded: 10 min). */
export function ensureBuild(log: (s: string) => void) {
  const sources = Math.max(newestMtimeMs(join(ROOT, 'src')), newestMtimeMs(join(ROOT, 'machines')));
  if (existsSync(COMPILED) && statSync(COMPILED).mtimeMs >= sources) return;
  log('dist/ is missing or older than the sources: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`npm run build failed (status ${r.status}, ${r.error?.message ?? r.signal ?? 'no error'})`);
}

/** setpriv --pdeathsig: the kernel kills the node if this process dies, even by SIGKILL. */
const PDEATHSIG = spawnSync('setpriv', ['--help'], { encoding: 'utf8' }).stdout?.includes('--pdeathsig') ?? false;

export interface ScaleSpec extends NodeSpec {
  intervalSeconds: number;
  timeoutSeconds: number;
  windowSeconds: number;
  stateDir: string;
}

/**
 * Writes the node's config and runs `bin/hastate.js run` with plain node. Debug logs: still no
 * line per heartbeat, but the epoch writes on the failover path (persistMs) are logged.
 */
export async function startCompiledNode(spec: ScaleSpec, dir: string): Promise<NodeProcess> {
  installExitHandlers();
  const statusPort = await freePort();
  mkdirSync(spec.stateDir, { recursive: true });
  const file = join(dir, `${spec.nodeId}.yaml`);
  writeFileSync(file, [
    'ha:',
    `  multicast_group: ${spec.group}`,
    '  interface: 127.0.0.1',
    `  node_id: ${spec.nodeId}`,
    `  priority: ${spec.priority ?? 0}`,
    `  election_window_seconds: ${spec.windowSeconds}`,
    `  state_dir: ${JSON.stringify(spec.stateDir)}`,
    '  heartbeat:',
    `    port: ${spec.port}`,
    `    interval_seconds: ${spec.intervalSeconds}`,
    `    timeout_seconds: ${spec.timeoutSeconds}`,
    'status:',
    '  host: 127.0.0.1',
    `  port: ${statusPort}`,
    'log:',
    '  level: debug',
    '',
  ].join('\n'));
  const argv = [process.execPath, BIN, 'run', '--config', file, '--log', 'json'];
  const [cmd, ...args] = PDEATHSIG ? ['setpriv', '--pdeathsig', 'SIGKILL', '--', ...argv] : argv;
  const proc = spawn(cmd!, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_'))),
  });
  const node = new NodeProcess(spec, statusPort, proc);
  live.add(node);
  void node.exited.then(() => live.delete(node));
  return node;
}

export interface ProcSample {
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  rssKb: number;
  /** Datagrams the kernel dropped at this process's UDP sockets (receive buffer full), since they opened. */
  socketDrops: number;
  /** How many of its sockets /proc/net/udp lists: 0 would make socketDrops meaningless. */
  udpSockets: number;
}

export const CLOCK_TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Kernel drops per UDP socket inode, from /proc/net/udp (the last column). */
function udpDropsByInode(): Map<string, number> {
  const drops = new Map<string, number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 13) drops.set(cols[9]!, Number(cols[12]));
  }
  return drops;
}

export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const byInode = udpDropsByInode();
  let socketDrops = 0;
  let udpSockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = (() => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return ''; // closed between the listing and the read
      }
    })();
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const drops = inode === undefined ? undefined : byInode.get(inode);
    if (drops !== undefined) {
      socketDrops += drops;
      udpSockets++;
    }
  }
  return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssKb: Number(rss?.[1] ?? 0), socketDrops, udpSockets };
}

/** Host-wide UDP RcvbufErrors (/proc/net/snmp): every process's drops, other users' included. */
export function hostRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const [names, values] = lines.map((l) => l.split(/\s+/).slice(1));
  const i = names?.indexOf('RcvbufErrors') ?? -1;
  if (i < 0 || values?.[i] === undefined) throw new Error('/proc/net/snmp: no Udp RcvbufErrors column');
  return Number(values[i]);
}
