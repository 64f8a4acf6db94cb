/**
 * The chaos lab: test hosts as Linux network namespaces joined by a bridge that lives in a
 * namespace of its own, so that no lab traffic touches the machine's own interfaces. Real node
 * processes run inside the hosts; faults are injected with the kernel: link down (partition),
 * nftables rules on a host (random loss per direction, duplication), signals (kill -9,
 * SIGSTOP/SIGCONT), and CPU hogs pinned to the CPU a host's node is pinned to.
 *
 * Needs root, `ip` (iproute2) and `nft` (nftables). This kernel has no sch_netem, so delay and
 * jitter cannot be injected here; `hasNetem()` says whether they can.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, NodeProcess, type NodeSpec } from '../integration/cluster.ts';

const ROOT = join(import.meta.dirname, '../..');

export function labAvailable(): { ok: true } | { ok: false; why: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root' };
  for (const tool of ['ip', 'nft', 'taskset']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return { ok: false, why: `${tool} not installed` };
  }
  return { ok: true };
}

export function hasNetem(): boolean {
  const r = spawnSync('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { encoding: 'utf8' });
  if (r.status === 0) spawnSync('tc', ['qdisc', 'del', 'dev', 'lo', 'root']);
  return r.status === 0;
}

const run = (args: string[]) => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export interface LabNodeSpec extends Omit<NodeSpec, 'nodeId' | 'group' | 'port'> {
  /** Pin the node to this CPU (taskset). */
  cpu?: number;
}

export class Lab {
  readonly id: string;
  readonly subnet: string;
  readonly switchNs: string;
  readonly hosts: string[];
  readonly group: string;
  readonly port = 9999;
  readonly procs = new Set<ChildProcess>();
  readonly dir: string;
  /** Path of a compiled CLI (dist/src/cli/main.js) to run instead of the sources through tsx. */
  compiledCli: string | null = null;

  private constructor(hostCount: number) {
    this.id = Math.random().toString(16).slice(2, 8);
    const k = 1 + Math.floor(Math.random() * 250);
    this.subnet = `10.${200 + Math.floor(Math.random() * 50)}.${k}`;
    this.switchNs = `hs-${this.id}-sw`;
    this.hosts = Array.from({ length: hostCount }, (_, i) => `hs-${this.id}-h${i + 1}`);
    this.group = `239.77.${k}.1`;
    this.dir = mkdtempSync(join(tmpdir(), 'hastate-lab-'));
  }

  /** Builds `hostCount` hosts on one bridge; host i has address `ip(i)` on its `eth0`. */
  static create(hostCount: number): Lab {
    const lab = new Lab(hostCount);
    try {
      run(['ip', 'netns', 'add', lab.switchNs]);
      // Snooping off: the bridge floods multicast to every port, like a plain switch.
      run(['ip', '-n', lab.switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
      run(['ip', '-n', lab.switchNs, 'link', 'set', 'br0', 'up']);
      lab.hosts.forEach((ns, i) => {
        run(['ip', 'netns', 'add', ns]);
        run(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `p${i + 1}`, 'netns', lab.switchNs]);
        run(['ip', '-n', lab.switchNs, 'link', 'set', `p${i + 1}`, 'master', 'br0']);
        run(['ip', '-n', lab.switchNs, 'link', 'set', `p${i + 1}`, 'up']);
        run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
        run(['ip', '-n', ns, 'addr', 'add', `${lab.ip(i)}/24`, 'dev', 'eth0']);
        run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
        run(['ip', 'netns', 'exec', ns, 'nft', 'add', 'table', 'ip', 'lab']);
        run(['ip', 'netns', 'exec', ns, 'nft', 'add', 'chain', 'ip', 'lab', 'out', '{ type filter hook output priority 0; }']);
        run(['ip', 'netns', 'exec', ns, 'nft', 'add', 'chain', 'ip', 'lab', 'in', '{ type filter hook input priority 0; }']);
      });
    } catch (error) {
      lab.destroy();
      throw error;
    }
    return lab;
  }

  ip(i: number): string {
    return `${this.subnet}.${i + 1}`;
  }

  /** Starts `hastate run` inside host i; its node id is the host's address. */
  startNode(i: number, spec: LabNodeSpec = {}): NodeProcess {
    const nodeId = this.ip(i);
    const file = join(this.dir, `${nodeId}.yaml`);
    writeFileSync(file, [
      'ha:', `  multicast_group: ${this.group}`, `  interface: ${nodeId}`, `  node_id: ${nodeId}`,
      // Epoch files stay in the lab's directory and survive the lab's restarts of a host.
      `  state_dir: ${JSON.stringify(join(this.dir, 'state'))}`,
      `  priority: ${spec.priority ?? 0}`, `  role: ${spec.role ?? 'auto'}`, `  preempt: ${spec.preempt ?? false}`,
      `  election_window_seconds: ${spec.windowSeconds ?? 0.5}`, '  heartbeat:', `    port: ${this.port}`,
      `    interval_seconds: ${spec.intervalSeconds ?? 0.2}`, `    timeout_seconds: ${spec.timeoutSeconds ?? 0.6}`,
      'status:', '  enabled: false', 'log:', '  level: info', '',
    ].join('\n'));
    const pin = spec.cpu === undefined ? [] : ['taskset', '-c', String(spec.cpu)];
    // this.compiledCli: a build from `npm run build` run with plain node (bench:lab --compiled).
    const cli = this.compiledCli === null ? ['--import', 'tsx', CLI] : [this.compiledCli];
    const proc = spawn('ip', ['netns', 'exec', this.hosts[i]!, ...pin, process.execPath, ...cli, 'run', '--config', file, '--log', 'json', ...(spec.supervise === true ? ['--supervise'] : [])], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_'))),
    });
    this.procs.add(proc);
    proc.once('exit', () => this.procs.delete(proc));
    return new NodeProcess({ nodeId, group: this.group, port: this.port, ...spec }, 0, proc);
  }

  /** Partition: host i's cable is pulled (and put back with `linkUp`). */
  linkDown(i: number): void {
    run(['ip', '-n', this.switchNs, 'link', 'set', `p${i + 1}`, 'down']);
  }

  linkUp(i: number): void {
    run(['ip', '-n', this.switchNs, 'link', 'set', `p${i + 1}`, 'up']);
  }

  /**
   * Drops `percent` of host i's heartbeats in one direction (or both), at random: UDP (hastate)
   * and IP protocol 112 (VRRP, keepalived), so both tools meet the same loss.
   */
  loss(i: number, percent: number, direction: 'out' | 'in' | 'both' = 'both'): void {
    for (const chain of direction === 'both' ? ['out', 'in'] : [direction]) {
      run(['ip', 'netns', 'exec', this.hosts[i]!, 'nft', 'add', 'rule', 'ip', 'lab', chain, 'meta', 'l4proto', '{ 17, 112 }', 'numgen', 'random', 'mod', '100', '<', String(percent), 'drop']);
    }
  }

  /** Sends a second copy of `percent` of host i's outgoing heartbeats. */
  duplicate(i: number, percent: number): void {
    run(['ip', 'netns', 'exec', this.hosts[i]!, 'nft', 'add', 'rule', 'ip', 'lab', 'out', 'ip', 'daddr', this.group, 'numgen', 'random', 'mod', '100', '<', String(percent), 'dup', 'to', this.group, 'device', 'eth0']);
  }

  clear(i: number): void {
    for (const chain of ['out', 'in']) run(['ip', 'netns', 'exec', this.hosts[i]!, 'nft', 'flush', 'chain', 'ip', 'lab', chain]);
  }

  /** Saturates `cpu` with `count` busy loops (the host whose node is pinned there starves). */
  cpuHogs(cpu: number, count: number): ChildProcess[] {
    return Array.from({ length: count }, () => {
      const p = spawn('taskset', ['-c', String(cpu), 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
      this.procs.add(p);
      p.once('exit', () => this.procs.delete(p));
      return p;
    });
  }

  /** Kills everything the lab started and removes its namespaces. Safe to call twice. */
  destroy(): void {
    for (const p of this.procs) {
      try {
        p.kill('SIGCONT');
        p.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of [...this.hosts, this.switchNs]) {
      // Whatever still runs inside (a supervised node whose supervisor was killed first, a
      // farewell hook) dies with the namespace rather than outliving the lab.
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 0)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }
}

/**
 * Polls `probe` every 5 ms until it holds, or throws naming `what` at the deadline. Runner-free
 * (no vitest), for the bench scripts that drive a lab (bench-lab.ts, bench-process-crash.ts).
 */
export async function waitFor(what: string, probe: () => boolean, deadlineMs: number): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!probe()) {
    if (performance.now() > end) throw new Error(`no ${what} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Removes namespaces left by a lab whose process died before cleaning up. */
export function removeStaleLabs(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (name?.startsWith('hs-')) spawnSync('ip', ['netns', 'del', name]);
  }
}
