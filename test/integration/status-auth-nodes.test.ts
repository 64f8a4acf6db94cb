/**
 * Real node processes whose status endpoint listens on 0.0.0.0 (so that /metrics can be
 * scraped): POST /resign cannot force a failover without the credential. Requests go to
 * 127.0.0.1 and, for the non-loopback path, to a non-internal address of this machine (the
 * node sees it as the peer address). `hastate resign` with the token hands over.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, randomNetwork, startNode, type NodeProcess } from './cluster.ts';
import { nodesStoppedAfterEach } from './pair.ts';

const run = promisify(execFile);
const TOKEN = '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f';
const LAN = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
const dir = mkdtempSync(join(tmpdir(), 'hastate-status-auth-'));
const tokenFile = join(dir, 'resign.token');
writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
const wrongFile = join(dir, 'wrong.token');
writeFileSync(wrongFile, `${TOKEN.slice(1)}x\n`, { mode: 0o600 });

const nodes = nodesStoppedAfterEach();

const resign = (host: string, node: NodeProcess, headers: Record<string, string> = {}) =>
  fetch(`http://${host}:${node.statusPort}/resign`, { method: 'POST', headers, signal: AbortSignal.timeout(5_000) });

/** Runs `hastate resign`; resolves with its exit code and output (never rejects on a non-zero exit). */
async function cliResign(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_')));
  try {
    const r = await run(process.execPath, ['--import', 'tsx', CLI, 'resign', ...args], { env, timeout: 20_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('status endpoint on 0.0.0.0: POST /resign needs the credential', () => {
  it('with a token file: unauthenticated and wrong-token resigns are refused (401) and the primary stays; hastate resign with the token hands over', async () => {
    const net = randomNetwork();
    const env = { HASTATE_STATUS_HOST: '0.0.0.0', HASTATE_STATUS_TOKEN_FILE: tokenFile };
    const a = await startNode({ nodeId: 'auth-a', priority: 100, ...net }, env);
    nodes.push(a);
    await a.waitForRole('primary', 15_000);
    const b = await startNode({ nodeId: 'auth-b', priority: 50, ...net }, env);
    nodes.push(b);
    await b.waitForRole('standby', 15_000);
    const changesBefore = a.roleChanges().length;

    const none = await resign('127.0.0.1', a);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await resign('127.0.0.1', a, { authorization: `Bearer ${TOKEN.slice(1)}x` })).status).toBe(401);
    if (LAN !== undefined) expect((await resign(LAN, a)).status).toBe(401);
    const refusedCli = await cliResign(['--url', `http://127.0.0.1:${a.statusPort}`]);
    expect(refusedCli.code).toBe(4);
    expect(refusedCli.stderr).toMatch(/HTTP 401.*--token-file/);
    expect((await cliResign(['--url', `http://127.0.0.1:${a.statusPort}`, '--token-file', wrongFile])).code).toBe(4);

    // Each refused request was answered after the node decided: a resign would have shown by now.
    expect((await a.status()).role).toBe('primary');
    expect(a.roleChanges().length).toBe(changesBefore);
    expect(a.logs.some((l) => /resigning/.test(l.msg))).toBe(false);

    const host = LAN ?? '127.0.0.1';
    const ok = await cliResign(['--url', `http://${host}:${a.statusPort}`, '--token-file', tokenFile]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ resigned: true });
    await b.waitForRole('primary', 15_000);
    // Two node start-ups and three CLI processes through tsx: under a loaded CI machine this
    // outgrows the default 20 s (it did once); every wait inside has its own deadline.
  }, 60_000);

  it.skipIf(LAN === undefined)('without a token: a non-loopback peer is refused (403) and the primary stays; a loopback peer may still resign', async () => {
    const net = randomNetwork();
    const a = await startNode({ nodeId: 'open-a', priority: 100, ...net }, { HASTATE_STATUS_HOST: '0.0.0.0' });
    nodes.push(a);
    await a.waitForRole('primary', 15_000);
    await a.waitForLog('the no-token warning', (l) => /listens beyond loopback without a token/.test(l.msg), 5_000);
    const changesBefore = a.roleChanges().length;

    const remote = await resign(LAN!, a);
    expect(remote.status).toBe(403);
    expect((await remote.json()).error).toMatch(/status\.token_file or status\.token_env/);
    expect((await fetch(`http://${LAN}:${a.statusPort}/metrics`)).status).toBe(200);
    expect((await a.status()).role).toBe('primary');
    expect(a.roleChanges().length).toBe(changesBefore);

    const local = await resign('127.0.0.1', a);
    expect(local.status).toBe(200);
    expect(await local.json()).toMatchObject({ resigned: true });
  }, 60_000);
});
