/**
 * The durable epoch with real node processes on loopback multicast, the reference application
 * and the epoch-fenced API stand-in: a node restarted alone after the cluster went through
 * several terms leads above every epoch it issued or saw, so the fenced API accepts it.
 * Also the state file's lock between real processes, and bad state files at start.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startApiStandIn, type ApiStandIn } from '../../src/reference/api-stand-in.ts';
import { encodeEpochRecord, epochFileName } from '../../src/runtime/epoch-store.ts';
import { freePort, randomNetwork, startNode, stopAll, type NodeProcess, type NodeSpec } from './cluster.ts';

const DEADLINE_MS = 10_000;
let nodes: NodeProcess[] = [];
let standIn: ApiStandIn | null = null;
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
  await standIn?.close();
  standIn = null;
});

async function start(spec: NodeSpec): Promise<NodeProcess> {
  const n = await startNode(spec);
  nodes.push(n);
  return n;
}

/** The reference application on a node, with its alert receiver on `alertPort`, against the stand-in. */
function referenceLines(apiUrl: string, alertPort: number, base: number): string[] {
  const r = () => 1 + Math.floor(Math.random() * 250);
  return [
    'reference:',
    '  enabled: true',
    `  api_url: ${apiUrl}`,
    '  collect_interval_seconds: 1',
    '  keepalive_interval_seconds: 0.5',
    '  monitor:',
    `    group: 239.253.${r()}.${r()}`,
    `    request_port: ${base}`,
    `    response_port: ${base + 1}`,
    '  alerts:',
    '    host: 127.0.0.1',
    `    port: ${alertPort}`,
    '    retry_after_seconds: 0.1',
    '  bmc:',
    `    group: 239.253.${r()}.${r()}`,
    `    port: ${base + 2}`,
  ];
}

const postAlert = (port: number, id: string) =>
  fetch(`http://127.0.0.1:${port}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, boardId: 'board-1', level: 'critical', message: 'fan failure' }),
    signal: AbortSignal.timeout(2_000),
  });

/** Posts until the alert is processed, and returns the epoch the primary processed it at. */
async function alertProcessed(port: number, id: string): Promise<number> {
  let last = 'no answer';
  return vi.waitFor(
    async () => {
      const res = await postAlert(port, id).catch((error: Error) => ({ status: 0, json: async () => error.message }));
      const body = (await res.json()) as { code?: string; epoch?: number };
      last = JSON.stringify(body);
      if (res.status !== 200) throw new Error(`alert ${id}: ${res.status} ${last}`);
      return body.epoch!;
    },
    { timeout: DEADLINE_MS, interval: 50 },
  );
}

describe('durable epoch with real processes', () => {
  it('a node restarted alone after terms 1..3 leads above 3 and the fenced API accepts its alerts', async () => {
    standIn = await startApiStandIn();
    const net = randomNetwork();
    const stateA = mkdtempSync(join(tmpdir(), 'hastate-state-a-'));
    const base = 30_000 + Math.floor(Math.random() * 3_000) * 3;
    const [alertA, alertB] = [await freePort(), await freePort()];
    const specA: NodeSpec = { nodeId: '127.0.0.1', priority: 2, ...net, stateDir: stateA, extraLines: referenceLines(standIn.url, alertA, base) };
    const specB: NodeSpec = { nodeId: '127.0.0.2', priority: 1, ...net, extraLines: referenceLines(standIn.url, alertB, base) };

    // Term 1: A leads.
    let a = await start(specA);
    expect((await a.waitForRole('primary', DEADLINE_MS)).epoch).toBe(1);
    const b = await start(specB);
    await b.waitForRole('standby', DEADLINE_MS);
    expect(await alertProcessed(alertA, 'alert-1')).toBe(1);

    // Term 2: A dies, B takes over.
    await a.kill();
    expect((await b.waitForRole('primary', DEADLINE_MS)).epoch).toBe(2);
    expect(await alertProcessed(alertB, 'alert-2')).toBe(2);

    // A rejoins as standby; B dies; term 3: A.
    a = await start(specA);
    await a.waitForRole('standby', DEADLINE_MS);
    await b.kill();
    expect((await a.waitForRole('primary', DEADLINE_MS, a.logs.length)).epoch).toBe(3);
    expect(await alertProcessed(alertA, 'alert-3')).toBe(3);
    expect(standIn.stats().highestEpoch).toBe(3);

    // A dies and restarts alone: it must lead above 3 (on main it led at epoch 1, and the API refused it for good).
    await a.kill();
    expect(JSON.parse(readFileSync(join(stateA, epochFileName('127.0.0.1')), 'utf8'))).toMatchObject({ version: 1, nodeId: '127.0.0.1', epoch: 3 });
    a = await start(specA);
    const lead = await a.waitForRole('primary', DEADLINE_MS);
    expect(lead.epoch).toBeGreaterThan(3);
    expect(await alertProcessed(alertA, 'alert-4')).toBe(lead.epoch);
    expect(standIn.stats()).toMatchObject({ highestEpoch: lead.epoch, alertIds: ['alert-1', 'alert-2', 'alert-3', 'alert-4'] });
  }, 60_000);

  it('a second process with the same node id and state directory is refused; after kill -9 of the first, a restart recovers the stale lock', async () => {
    const net = randomNetwork();
    const stateDir = mkdtempSync(join(tmpdir(), 'hastate-state-lock-'));
    const spec: NodeSpec = { nodeId: 'lock-node', ...net, stateDir };
    const first = await start(spec);
    const lead = await first.waitForRole('primary', DEADLINE_MS);
    const second = await start(spec);
    expect(await second.exited).toBe(2);
    const lockPath = join(stateDir, epochFileName('lock-node').replace(/\.json$/, '.lock'));
    expect(second.stderr.join('')).toContain(lockPath);
    expect(second.stderr.join('')).toMatch(new RegExp(`held by running process ${first.proc.pid}`));
    await first.kill('SIGKILL');
    // The lock file is still there, naming a dead pid.
    expect(readFileSync(lockPath, 'utf8').split(' ')[0]).toBe(String(first.proc.pid));
    const third = await start(spec);
    expect((await third.waitForRole('primary', DEADLINE_MS)).epoch).toBeGreaterThan(lead.epoch!);
  }, 60_000);

  it('a standby whose epoch cannot be written at takeover reports a fault instead of leading: role unknown, notify.fault, /healthz 503, the failure metric', async () => {
    const net = randomNetwork();
    const stateB = mkdtempSync(join(tmpdir(), 'hastate-state-fault-'));
    const hookOut = join(mkdtempSync(join(tmpdir(), 'hastate-hook-')), 'fault.txt');
    const a = await start({ nodeId: '127.0.0.1', priority: 2, ...net });
    await a.waitForRole('primary', DEADLINE_MS);
    const b = await start({ nodeId: '127.0.0.2', priority: 1, ...net, stateDir: stateB, extraLines: ['notify:', `  fault: 'echo "$1 $2" > ${hookOut}'`] });
    await b.waitForRole('standby', DEADLINE_MS);
    const file = join(stateB, epochFileName('127.0.0.2'));
    // The epoch B saw is made durable in the background; then its disk goes bad: a directory
    // where the temporary file must go makes every write fail (EISDIR), as a full disk would.
    await vi.waitFor(() => expect(JSON.parse(readFileSync(file, 'utf8')).epoch).toBe(1), { timeout: DEADLINE_MS });
    mkdirSync(`${file}.tmp`);
    await a.kill();
    const fault = await b.waitForRole('unknown', DEADLINE_MS);
    expect(fault.reason).toContain(`${file}: cannot write the epoch state file`);
    expect(b.roleChanges().some((c) => c.to === 'primary')).toBe(false);
    await vi.waitFor(() => expect(existsSync(hookOut) && readFileSync(hookOut, 'utf8')).toBe('unknown 1\n'), { timeout: DEADLINE_MS });
    const health = await fetch(`http://127.0.0.1:${b.statusPort}/healthz`);
    expect(health.status).toBe(503);
    const metrics = await (await fetch(`http://127.0.0.1:${b.statusPort}/metrics`)).text();
    expect(metrics).toMatch(/^hastate_epoch_store_failures_total 1$/m);
    expect(metrics).toMatch(/^hastate_epoch_durable 1$/m);
    expect(JSON.parse(readFileSync(file, 'utf8')).epoch).toBe(1);
  }, 60_000);

  it.each([
    ['corrupt', (path: string) => writeFileSync(path, '{"version":1,"nodeId":"bad-node","epoch":9,"sha256":"0000"}'), /sha256 does not match/],
    ['foreign', (path: string) => writeFileSync(path, encodeEpochRecord('other-node', 9)), /belongs to node "other-node"/],
  ])('a %s state file stops the start with exit 2, naming the file', async (_what, spoil, message) => {
    const net = randomNetwork();
    const stateDir = mkdtempSync(join(tmpdir(), 'hastate-state-bad-'));
    const path = join(stateDir, epochFileName('bad-node'));
    writeFileSync(path, '{"version":1,"nodeId":"bad-node","epoch":9,"sha256":"x"}');
    spoil(path);
    const n = await start({ nodeId: 'bad-node', ...net, stateDir });
    expect(await n.exited).toBe(2);
    const stderr = n.stderr.join('');
    expect(stderr).toContain(path);
    expect(stderr).toMatch(message);
    expect(n.roleChanges()).toEqual([]);
  }, 30_000);
});
