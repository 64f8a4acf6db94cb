/**
 * The systemd unit's SystemCallFilter allows every system call a real node makes: a node runs
 * under strace through an election, status, metrics, health and live-view requests, a notify
 * hook and a SIGTERM hand-over, and each call it made must be in the filter as systemd expands
 * it. Needs strace and systemd-analyze (skipped with a message otherwise).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI, freePort, NodeProcess, randomNetwork, stopAll } from '../integration/cluster.ts';
import { directive, parseUnitFile } from './unit-file.ts';

const ROOT = join(import.meta.dirname, '../..');
const available = (cmd: string) => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
const canTrace = available('strace') && available('systemd-analyze');
if (!canTrace) console.warn('strace or systemd-analyze is not installed: skipping the system-call trace of a node against the unit\'s filter');

/** The calls a group stands for, as this machine's systemd expands it (groups nest). */
function expandGroup(group: string, seen = new Set<string>()): Set<string> {
  const calls = new Set<string>();
  if (seen.has(group)) return calls;
  seen.add(group);
  const result = spawnSync('systemd-analyze', ['syscall-filter', group], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`systemd-analyze syscall-filter ${group} failed: ${result.stderr}`);
  for (const raw of result.stdout.split('\n').slice(1)) {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) continue;
    if (entry.startsWith('@')) for (const c of expandGroup(entry, seen)) calls.add(c);
    else calls.add(entry);
  }
  return calls;
}

/** What SystemCallFilter= lines allow, in order: allow lists add, `~` lists remove. */
function allowedCalls(values: string[]): Set<string> {
  const allowed = new Set<string>();
  for (const value of values) {
    const deny = value.startsWith('~');
    for (const item of value.replace(/^~/, '').split(/\s+/)) {
      const calls = item.startsWith('@') ? expandGroup(item) : new Set([item]);
      for (const c of calls) (deny ? allowed.delete(c) : allowed.add(c));
    }
  }
  return allowed;
}

const nodes: NodeProcess[] = [];
afterAll(async () => {
  // Killing strace would leave the node it traces running: kill the node too.
  for (const n of nodes) {
    const pid = n.logs.find((l) => typeof l.pid === 'number')?.pid;
    if (typeof pid === 'number' && n.proc.exitCode === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await stopAll(nodes);
});

it.skipIf(!canTrace)('a traced node makes only system calls the unit allows', { timeout: 60_000 }, async () => {
  const unit = parseUnitFile(readFileSync(join(ROOT, 'deploy/systemd/hastate.service'), 'utf8'));
  const allowed = allowedCalls(directive(unit, 'Service', 'SystemCallFilter') ?? []);
  expect(allowed.size).toBeGreaterThan(100);

  const dir = mkdtempSync(join(tmpdir(), 'hastate-strace-'));
  const { group, port } = randomNetwork();
  const statusPort = await freePort();
  const config = join(dir, 'node.yaml');
  writeFileSync(config, ['ha:', `  multicast_group: ${group}`, '  interface: 127.0.0.1', '  node_id: 127.0.0.1', '  election_window_seconds: 0.3', '  heartbeat:', `    port: ${port}`, '    interval_seconds: 0.2', '    timeout_seconds: 0.6', 'status:', '  host: 127.0.0.1', `  port: ${statusPort}`, 'notify:', '  primary: "true"', ''].join('\n'));
  const trace = join(dir, 'strace.out');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_')));
  const proc = spawn('strace', ['-f', '-qq', '-o', trace, process.execPath, '--import', 'tsx', CLI, 'run', '--config', config, '--log', 'json'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const node = new NodeProcess({ nodeId: '127.0.0.1', group, port }, statusPort, proc);
  nodes.push(node);

  await node.waitForRole('primary', 20_000);
  await node.waitForLog('the notify hook', (l) => l.component === 'notify', 10_000);
  const base = `http://127.0.0.1:${statusPort}`;
  for (const path of ['/status', '/metrics', '/healthz', '/']) {
    expect((await fetch(base + path, { signal: AbortSignal.timeout(5_000) })).status, path).toBe(200);
  }
  // The live view's event stream: read its first chunk, then hang up.
  const events = await fetch(`${base}/events`, { signal: AbortSignal.timeout(5_000) });
  const reader = events.body!.getReader();
  await reader.read();
  await reader.cancel();
  // The signal goes to the node itself (strace passes it no signal it gets); strace then
  // exits with the node's exit status.
  const pid = node.logs.find((l) => typeof l.pid === 'number')?.pid as number;
  process.kill(pid, 'SIGTERM');
  expect(await node.exited).toBe(0);

  const used = new Set<string>();
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const m = /^\d+\s+([a-z_][a-z0-9_]*)\(/.exec(line);
    if (m) used.add(m[1]!);
  }
  expect(used.size).toBeGreaterThan(30);
  expect([...used].filter((c) => !allowed.has(c)).sort()).toEqual([]);
});
