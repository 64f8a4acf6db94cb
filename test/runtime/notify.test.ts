/**
 * Notify hooks run real shell commands: arguments and environment, order, timeout (the whole
 * process group is killed), failures reported, a bounded queue, and never blocking the caller.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.ts';
import { HaNode, type RoleChange } from '../../src/runtime/node.ts';
import { createNotifier, hookFor, KILL_GRACE_MS, MAX_PENDING_HOOKS, type HookResult, type NotifyConfig } from '../../src/runtime/notify.ts';
import { randomNetwork } from '../integration/cluster.ts';
import { until } from '../until.ts';

const silent = pino({ level: 'silent' });
const change = (from: RoleChange['from'], to: RoleChange['to'], epoch = 3): RoleChange => ({ from, to, epoch, primaryId: to === 'primary' ? 'n1' : 'n2', reason: 'test' });
const cfg = (over: Partial<NotifyConfig>): NotifyConfig => ({ primary: '', standby: '', fault: '', stop: '', timeoutMs: 5_000, ...over });

const hookDir = () => mkdtempSync(join(tmpdir(), 'hastate-notify-'));

/** A notifier that records every hook result and every failure. */
function recording(config: Partial<NotifyConfig>, nodeId = 'n') {
  const results: HookResult[] = [];
  const failures: HookResult[] = [];
  const n = createNotifier({ config: cfg(config), nodeId, log: silent, onResult: (r) => results.push(r), onFailure: (r) => failures.push(r) });
  return { n, results, failures };
}

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.map((s) => s()));
  stops = [];
});

describe('notify hooks', () => {
  it('maps role changes to hooks: primary, standby, fault (transport lost); epoch-only changes run nothing', () => {
    expect(hookFor(change('electing', 'primary'))).toBe('primary');
    expect(hookFor(change('primary', 'standby'))).toBe('standby');
    expect(hookFor(change('standby', 'unknown'))).toBe('fault');
    expect(hookFor(change('unknown', 'electing'))).toBeNull();
    expect(hookFor(change('standby', 'standby'))).toBeNull();
  });

  it('passes role, epoch and node id as $1 $2 $3 and HASTATE_* variables; returns before the hook runs', async () => {
    const out = join(hookDir(), 'out');
    const { n, results } = recording({ primary: `echo "$1 $2 $3 $HASTATE_FROM_ROLE $HASTATE_PRIMARY_ID $HASTATE_REASON" > ${out}` }, 'node-7');
    n.onRoleChange(change('electing', 'primary', 12));
    // Results arrive from the child's events, so none can exist yet if onRoleChange did not wait for it.
    expect(results).toHaveLength(0);
    expect(n.pending).toBe(1);
    await until('the hook result', () => results.length === 1);
    expect(results[0]).toMatchObject({ kind: 'primary', ok: true, code: 0, epoch: 12 });
    expect(readFileSync(out, 'utf8')).toBe('primary 12 node-7 electing n1 test\n');
  });

  it('runs hooks one at a time in the order of the changes', async () => {
    const out = join(hookDir(), 'order');
    const { n, results } = recording({ primary: `sleep 0.2; echo primary-$2 >> ${out}`, standby: `echo standby-$2 >> ${out}` });
    n.onRoleChange(change('electing', 'primary', 1));
    n.onRoleChange(change('primary', 'standby', 1));
    n.onRoleChange(change('standby', 'primary', 2));
    await until('three results', () => results.length === 3);
    expect(readFileSync(out, 'utf8')).toBe('primary-1\nstandby-1\nprimary-2\n');
  });

  it('a hook that exits non-zero or cannot finish in time is reported as failed; the timeout kills its children too', async () => {
    const pidFile = join(hookDir(), 'pid');
    const { n, failures } = recording({ standby: 'echo bad >&2; exit 3', fault: `sleep 30 & echo $! > ${pidFile}; wait`, timeoutMs: 200 });
    n.onRoleChange(change('primary', 'standby'));
    n.onRoleChange(change('standby', 'unknown'));
    await until('two failures', () => failures.length === 2, 4000);
    expect(failures[0]).toMatchObject({ kind: 'standby', code: 3, ok: false, output: 'bad' });
    expect(failures[1]).toMatchObject({ kind: 'fault', timedOut: true, ok: false });
    expect(failures[1]!.durationMs).toBeLessThan(2000);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await until('the grandchild to be gone', () => !existsSync(`/proc/${grandchild}`) || readFileSync(`/proc/${grandchild}/stat`, 'utf8').includes(') Z '), 3000);
  });

  it('bounds the queue: beyond the limit the oldest waiting hook is dropped and reported', async () => {
    const failures: HookResult[] = [];
    const n = createNotifier({ config: cfg({ primary: 'sleep 0.3', standby: 'true' }), nodeId: 'n', log: silent, onFailure: (r) => failures.push(r) });
    stops.push(() => n.stop(1000));
    n.onRoleChange(change('electing', 'primary'));
    for (let i = 0; i < MAX_PENDING_HOOKS + 2; i++) n.onRoleChange(change('primary', 'standby', i));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ kind: 'standby', epoch: 0, error: expect.stringContaining('dropped') });
    expect(n.pending).toBe(MAX_PENDING_HOOKS + 1);
  });

  it('notify.stop runs once after stop(), with "stopped", the epoch, the node id and the role it stopped in', async () => {
    const out = join(hookDir(), 'stop');
    const { n, results } = recording({ stop: `echo "$1 $2 $3 $HASTATE_ROLE $HASTATE_FROM_ROLE $HASTATE_PRIMARY_ID $HASTATE_REASON" >> ${out}` }, 'node-7');
    await n.stop(100);
    await n.runStop({ from: 'primary', epoch: 9, primaryId: 'node-7', reason: 'node stopped (SIGTERM)' }, 2_000);
    // Resolves only when the hook has finished: its output is there without waiting.
    expect(readFileSync(out, 'utf8')).toBe('stopped 9 node-7 stopped primary node-7 node stopped (SIGTERM)\n');
    expect(results).toMatchObject([{ kind: 'stop', ok: true, epoch: 9 }]);
    await n.runStop({ from: 'primary', epoch: 9, primaryId: null, reason: 'again' }, 2_000);
    expect(readFileSync(out, 'utf8').split('\n')).toHaveLength(2);
    // Role changes never run it.
    expect(hookFor(change('standby', 'unknown'))).not.toBe('stop');
  });

  it('notify.stop is bounded by its timeout: a hook that hangs is killed and reported as failed', async () => {
    const failures: HookResult[] = [];
    const n = createNotifier({ config: cfg({ stop: 'sleep 30', timeoutMs: 60_000 }), nodeId: 'n', log: silent, onFailure: (r) => failures.push(r) });
    const t0 = performance.now();
    await n.runStop({ from: 'standby', epoch: 1, primaryId: null, reason: 'test' }, 200);
    expect(performance.now() - t0).toBeLessThan(200 + KILL_GRACE_MS + 1_000);
    expect(failures).toMatchObject([{ kind: 'stop', timedOut: true, ok: false }]);
  });

  it('without notify.stop, runStop does nothing', async () => {
    const results: HookResult[] = [];
    const n = createNotifier({ config: cfg({}), nodeId: 'n', log: silent, onResult: (r) => results.push(r) });
    await n.runStop({ from: 'primary', epoch: 1, primaryId: null, reason: 'test' }, 200);
    expect(results).toEqual([]);
  });

  it('on a real node: becoming primary runs notify.primary with the node id and epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastate-notify-'));
    const out = join(dir, 'primary');
    const net = randomNetwork();
    const config = parseConfigText(
      `ha:\n  multicast_group: ${net.group}\n  interface: 127.0.0.1\n  node_id: 127.0.0.9\n  election_window_seconds: 0.1\n  heartbeat:\n    port: ${net.port}\n    interval_seconds: 0.05\n    timeout_seconds: 0.15\nstatus:\n  enabled: false\nnotify:\n  primary: 'echo "$HASTATE_ROLE $HASTATE_EPOCH $HASTATE_NODE_ID" > ${out}'\n`,
      'test.yaml',
      { env: {} },
    );
    const node = new HaNode({ config, logger: silent });
    const notifier = createNotifier({ config: config.notify, nodeId: config.ha.nodeId, log: silent });
    node.onRoleChange((c) => notifier.onRoleChange(c));
    stops.push(() => node.stop(1000), () => notifier.stop(1000));
    node.start();
    await until('the hook output', () => existsSync(out) && readFileSync(out, 'utf8').length > 0);
    expect(readFileSync(out, 'utf8')).toBe('primary 1 127.0.0.9\n');
  });
});
