/**
 * Real node processes on real multicast sockets on loopback, for integration tests.
 * Every wait has a deadline and fails with the node's recent log lines, never a bare timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NodeStatus } from '../../src/runtime/status.ts';

const ROOT = join(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'src/cli/main.ts');

export interface LogLine {
  level: number;
  msg: string;
  event?: string;
  from?: string;
  to?: string;
  epoch?: number;
  /** performance.now() in the test process when the line arrived. */
  seenAtMs: number;
  [k: string]: unknown;
}

/** A random group in the organisation-local scope and a random port, so parallel test files never hear each other. */
export function randomNetwork() {
  const r = () => 1 + Math.floor(Math.random() * 250);
  return { group: `239.255.${r()}.${r()}`, port: 20_000 + Math.floor(Math.random() * 20_000) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A UDP socket on loopback for sending datagrams of the test's own making to a group (TTL 1: they stay on the host). */
export async function groupSender(): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setMulticastInterface('127.0.0.1');
  sock.setMulticastTTL(1);
  return sock;
}

export interface NodeSpec {
  nodeId: string;
  priority?: number;
  group: string;
  port: number;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  windowSeconds?: number;
  preempt?: boolean;
  role?: 'auto' | 'primary' | 'standby';
  /** ha.state_dir; omitted = a fresh temporary directory per process (so restarts start from epoch 0). */
  stateDir?: string;
  /** Further top-level YAML sections (e.g. `reference:`), written after `ha:`. */
  extraLines?: string[];
  /** notify.fault command; omitted = none. */
  notifyFault?: string;
  /** ha.auth; omitted = mode off with no keys. */
  auth?: { mode: 'off' | 'accept-both' | 'enforce'; keyFile?: string; keyId?: number; freshnessWindowSeconds?: number };
  /** Run as `hastate run --supervise` (the process is then the supervisor; the node is its child). */
  supervise?: boolean;
}

export class NodeProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  #waiters = new Set<() => void>();
  exited: Promise<number | null>;
  constructor(
    readonly spec: NodeSpec,
    readonly statusPort: number,
    readonly proc: ChildProcess,
  ) {
    let buffer = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          this.logs.push({ ...(JSON.parse(line) as LogLine), seenAtMs: performance.now() });
        } catch {
          this.stderr.push(`stdout: ${line}`);
        }
        for (const w of this.#waiters) w();
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  get nodeId() {
    return this.spec.nodeId;
  }

  roleChanges(): LogLine[] {
    return this.logs.filter((l) => l.event === 'role-change');
  }

  currentRole(): string {
    return this.roleChanges().at(-1)?.to ?? 'unknown';
  }

  /** Resolves with the first log line (already seen or future) that matches, or rejects at the deadline. */
  waitForLog(what: string, pred: (l: LogLine) => boolean, deadlineMs: number, fromIndex = 0): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.logs.slice(fromIndex).find(pred);
        if (hit) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${this.nodeId}: no ${what} within ${deadlineMs} ms. Last log lines:\n${this.tail()}`));
      }, deadlineMs);
      this.#waiters.add(check);
      check();
    });
  }

  waitForRole(role: string, deadlineMs: number, fromIndex = 0): Promise<LogLine> {
    return this.waitForLog(`role ${role}`, (l) => l.event === 'role-change' && l.to === role, deadlineMs, fromIndex);
  }

  async status(): Promise<NodeStatus> {
    const res = await fetch(`http://127.0.0.1:${this.statusPort}/status`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as NodeStatus;
  }

  /** Polls GET /status until `pred` holds or the deadline passes. */
  async waitForStatus(what: string, pred: (s: NodeStatus) => boolean, deadlineMs: number): Promise<NodeStatus> {
    const end = performance.now() + deadlineMs;
    let last: NodeStatus | string = 'no answer yet';
    while (performance.now() < end) {
      try {
        last = await this.status();
        if (pred(last)) return last;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${this.nodeId}: status never showed ${what} within ${deadlineMs} ms; last: ${JSON.stringify(last)}`);
  }

  tail(n = 15): string {
    return [...this.logs.slice(-n).map((l) => `  ${l.msg}`), ...this.stderr.slice(-5).map((s) => `  stderr: ${s.trim()}`)].join('\n');
  }

  kill(signal: NodeJS.Signals = 'SIGKILL') {
    this.proc.kill(signal);
    return this.exited;
  }
}

/** `env` adds variables to the node's environment (e.g. HASTATE_* overrides of the written config). */
export async function startNode(spec: NodeSpec, env: Record<string, string> = {}): Promise<NodeProcess> {
  const haLines = [
    'ha:',
    `  multicast_group: ${spec.group}`,
    '  interface: 127.0.0.1',
    `  node_id: ${spec.nodeId}`,
    `  priority: ${spec.priority ?? 0}`,
    `  role: ${spec.role ?? 'auto'}`,
    `  preempt: ${spec.preempt ?? false}`,
    `  election_window_seconds: ${spec.windowSeconds ?? 0.5}`,
    '  heartbeat:',
    `    port: ${spec.port}`,
    `    interval_seconds: ${spec.intervalSeconds ?? 0.2}`,
    `    timeout_seconds: ${spec.timeoutSeconds ?? 0.6}`,
    ...(spec.auth === undefined
      ? []
      : [
          '  auth:',
          `    mode: ${spec.auth.mode}`,
          ...(spec.auth.keyFile === undefined ? [] : [`    key_file: ${JSON.stringify(spec.auth.keyFile)}`]),
          ...(spec.auth.keyId === undefined ? [] : [`    key_id: ${spec.auth.keyId}`]),
          ...(spec.auth.freshnessWindowSeconds === undefined ? [] : [`    freshness_window_seconds: ${spec.auth.freshnessWindowSeconds}`]),
        ]),
    ...(spec.notifyFault === undefined ? [] : ['notify:', `  fault: ${JSON.stringify(spec.notifyFault)}`]),
  ];
  return spawnNode(spec, await freePort(), haLines, (file) => [CLI, 'run', '--config', file, '--log', 'json', ...(spec.supervise === true ? ['--supervise'] : [])], env);
}

/**
 * Writes a node's config file (the given `ha:` lines, then a status endpoint on `statusPort`
 * and debug JSON logs) and runs `entry(file)` under tsx, with HASTATE_* variables cleared so the
 * caller's environment cannot change the node.
 */
export function spawnNode(spec: NodeSpec, statusPort: number, haLines: string[], entry: (file: string) => string[], env: Record<string, string> = {}): NodeProcess {
  const file = join(mkdtempSync(join(tmpdir(), 'hastate-it-')), `${spec.nodeId}.yaml`);
  // Never the user's state directory, and never one shared by accident between test nodes.
  const stateDir = spec.stateDir ?? mkdtempSync(join(tmpdir(), 'hastate-state-'));
  const lines = [...haLines];
  lines.splice(lines.indexOf('ha:') + 1, 0, `  state_dir: ${JSON.stringify(stateDir)}`);
  writeFileSync(file, [...lines, ...(spec.extraLines ?? []), 'status:', '  host: 127.0.0.1', `  port: ${statusPort}`, 'log:', '  level: debug', ''].join('\n'));
  const proc = spawn(process.execPath, ['--import', 'tsx', ...entry(file)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_'))), ...env },
  });
  return new NodeProcess(spec, statusPort, proc);
}

/** Each node's id, role and recent log lines: what a failed wait on several nodes prints. */
export function describeNodes(nodes: NodeProcess[], lines = 8): string {
  return nodes.map((n) => `${n.nodeId} (${n.currentRole()}):\n${n.tail(lines)}`).join('\n');
}

export async function stopAll(nodes: NodeProcess[]) {
  await Promise.all(nodes.map((n) => (n.proc.exitCode === null && n.proc.signalCode === null ? n.kill('SIGKILL') : n.exited)));
}
