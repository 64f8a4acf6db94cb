/**
 * Who may POST /resign on a status endpoint bound to 0.0.0.0, on a real server, from a real
 * loopback peer and from a real non-loopback peer (a non-internal address of this machine: the
 * server sees that address as the socket's remote address). Read-only routes stay open.
 */
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { statusService } from '../../src/index.ts';
import { createAccessCheck, isLoopbackAddress, isLoopbackHost } from '../../src/services/status-auth.ts';
import type { NodeStatus } from '../../src/runtime/status.ts';
import type { ServiceContext } from '../../src/services/types.ts';

const TOKEN = 'b3a1f0c2d4e6f8091a2b3c4d5e6f7081';
/** A non-loopback IPv4 address of this machine, if it has one. */
const LAN = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

async function serve(token: string | null) {
  let resigns = 0;
  const svc = statusService({
    host: '0.0.0.0',
    port: 0,
    liveView: false,
    token,
    getStatus: () => ({ role: 'primary', epoch: 1 }) as unknown as NodeStatus,
    onResign: async () => ({ resigned: true, n: ++resigns }),
  });
  await svc.start!({} as ServiceContext);
  stop = async () => void (await svc.stop!({} as ServiceContext));
  const port = svc.address()!.port;
  const call = (host: string, path: string, headers: Record<string, string> = {}, method = 'POST') => fetch(`http://${host}:${port}${path}`, { method, headers });
  return { call, resigns: () => resigns, refused: () => (svc.status!() as { refusedStateChanges: number }).refusedStateChanges };
}

describe('status endpoint credentials', () => {
  it('classifies loopback peers and hosts', () => {
    for (const a of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['192.0.2.2', '::ffff:10.0.0.1', '0.0.0.0', '', undefined]) expect(isLoopbackAddress(a)).toBe(false);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });

  it('with a token: missing, malformed or wrong credentials get 401 with WWW-Authenticate: Bearer, from loopback too; the right one resigns', async () => {
    const s = await serve(TOKEN);
    const none = await s.call('127.0.0.1', '/resign');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="hastate"');
    expect((await none.json()).error).toMatch(/bearer token is required/);
    expect((await s.call('127.0.0.1', '/resign', { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    const wrong = await s.call('127.0.0.1', '/resign', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect((await s.call('127.0.0.1', '/resign', { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect(s.resigns()).toBe(0);
    expect(s.refused()).toBe(4);
    const ok = await s.call('127.0.0.1', '/resign', { authorization: `bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(s.resigns()).toBe(1);
  });

  it.skipIf(LAN === undefined)('with a token: a non-loopback peer resigns only with the token; GET /status stays open', async () => {
    const s = await serve(TOKEN);
    expect((await s.call(LAN!, '/resign')).status).toBe(401);
    expect((await s.call(LAN!, '/status', {}, 'GET')).status).toBe(200);
    expect((await s.call(LAN!, '/resign', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect(s.resigns()).toBe(1);
  });

  it.skipIf(LAN === undefined)('without a token: a non-loopback peer gets 403 naming the fix, loopback keeps working, read-only routes stay open', async () => {
    const s = await serve(null);
    const remote = await s.call(LAN!, '/resign');
    expect(remote.status).toBe(403);
    expect((await remote.json()).error).toMatch(/status\.token_file or status\.token_env/);
    // A token sent anyway does not help: there is nothing to compare it with.
    expect((await s.call(LAN!, '/resign', { authorization: `Bearer ${TOKEN}` })).status).toBe(403);
    expect((await s.call(LAN!, '/healthz', {}, 'GET')).status).toBe(200);
    expect(s.resigns()).toBe(0);
    expect((await s.call('127.0.0.1', '/resign')).status).toBe(200);
    expect(s.resigns()).toBe(1);
  });

  it('compares over equal-length digests: tokens of any length are refused, not thrown on', () => {
    const check = createAccessCheck(TOKEN);
    const req = (authorization: string) => ({ headers: { authorization }, socket: { remoteAddress: '127.0.0.1' } }) as never;
    for (const t of ['x', TOKEN.repeat(10), `${TOKEN} `]) expect(check(req(`Bearer ${t}`)).ok).toBe(t === `${TOKEN} `);
  });
});
