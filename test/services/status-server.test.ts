/** The status server's routes with fake callbacks: what it did before, and the live-view additions. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeStatus } from '../../src/runtime/status.ts';
import { statusService, type StatusServerOptions } from '../../src/services/status-server.ts';
import { until } from '../until.ts';
import { fakeStatus, openEvents, raw } from './helpers.ts';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function serve(over: Partial<StatusServerOptions> = {}) {
  let status: NodeStatus = fakeStatus();
  const svc = statusService({ host: '127.0.0.1', port: 0, getStatus: () => status, ...over });
  await svc.start!({} as never);
  cleanup.push(() => svc.stop!({} as never));
  const base = `http://127.0.0.1:${svc.address()!.port}`;
  return { svc, base, setStatus: (s: NodeStatus) => (status = s) };
}

/** A subscribe option driven by hand, like HaNode.onRoleChange. */
function emitter() {
  const listeners = new Set<(e: object) => void>();
  return {
    subscribe: (l: (e: object) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit: (e: object) => listeners.forEach((l) => l(e)),
    count: () => listeners.size,
  };
}

describe('status server: the routes it always had', () => {
  it('GET /status answers the status as JSON; HEAD answers without a body', async () => {
    const { base } = await serve();
    const res = await fetch(`${base}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toMatchObject({ nodeId: '127.0.0.9', role: 'standby', epoch: 3 });
    const head = await raw(base, 'HEAD', '/status');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('GET /healthz is 200 with the role, 503 while the role is unknown', async () => {
    const { base, setStatus } = await serve();
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true, role: 'standby' });
    setStatus(fakeStatus({ role: 'unknown', reason: 'transport down' }));
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, role: 'unknown', reason: 'transport down' });
  });

  it('refuses unknown paths (404), other methods (405), bodies (413), and reports a failing status (500)', async () => {
    const { base } = await serve({ getStatus: () => { throw new Error('boom'); } });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/status`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await raw(base, 'GET', '/status', { 'content-length': '5000' }, ['x'.repeat(5000)])).status).toBe(413);
    const failed = await fetch(`${base}/status`);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: 'status unavailable: boom' });
  });

  it('reports its address in its service status and frees the port on stop', async () => {
    const { svc, base } = await serve();
    expect(svc.status!()).toEqual({ address: `127.0.0.1:${svc.address()!.port}`, liveViewClients: 0, refusedStateChanges: 0 });
    await svc.stop!({} as never);
    expect(svc.address()).toBeNull();
    await expect(fetch(`${base}/status`)).rejects.toThrow();
  });
});

describe('GET /metrics', () => {
  it('is 404 without getMetrics', async () => {
    const { base } = await serve();
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('answers the registry content type and body; 500 when rendering fails', async () => {
    const { base } = await serve({ getMetrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'x_total 1\n' }) });
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toBe('x_total 1\n');
    const { base: failing } = await serve({ getMetrics: async () => { throw new Error('nope'); } });
    expect((await fetch(`${failing}/metrics`)).status).toBe(500);
  });
});

describe('POST /resign', () => {
  it('is 404 without onResign', async () => {
    const { base } = await serve();
    expect((await fetch(`${base}/resign`, { method: 'POST' })).status).toBe(404);
  });

  it('calls onResign once per POST and answers its result; other methods are 405', async () => {
    let calls = 0;
    const { base } = await serve({ onResign: async () => ({ resigned: true, role: 'standby', epoch: 4, call: ++calls }) });
    const get = await fetch(`${base}/resign`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(calls).toBe(0);
    const res = await fetch(`${base}/resign`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ resigned: true, role: 'standby', epoch: 4, call: 1 });
    // A tiny body (some clients send `{}`) is accepted.
    expect((await raw(base, 'POST', '/resign', { 'content-type': 'application/json' }, ['{}'])).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('refuses a large body, declared or chunked, without calling onResign', async () => {
    let calls = 0;
    const { base } = await serve({ onResign: async () => ++calls });
    expect((await raw(base, 'POST', '/resign', { 'content-length': '4096' }, ['y'.repeat(4096)])).status).toBe(413);
    const chunked = await raw(base, 'POST', '/resign', {}, ['z'.repeat(800), 'z'.repeat(800)]);
    expect(chunked.status).toBe(413);
    expect(calls).toBe(0);
  });

  it('refuses requests from another site\'s page (a browser names it in Origin)', async () => {
    let calls = 0;
    const { base } = await serve({ onResign: async () => ++calls });
    expect((await raw(base, 'POST', '/resign', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await raw(base, 'POST', '/resign', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const host = base.replace('http://', '');
    expect((await raw(base, 'POST', '/resign', { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('answers 500 with the message when onResign fails', async () => {
    const { base } = await serve({ onResign: async () => { throw new Error('not now'); } });
    const res = await fetch(`${base}/resign`, { method: 'POST' });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'resign failed: not now' });
  });
});

describe('GET /events', () => {
  it('delivers role changes with epoch and reason, replays them to new clients, and sends status snapshots', async () => {
    const e = emitter();
    const { base } = await serve({ subscribe: e.subscribe });
    expect(e.count()).toBe(1);
    const a = await openEvents(base);
    cleanup.push(a.close);
    expect(a.res.headers.get('content-type')).toBe('text/event-stream');
    expect((await a.next('history', (x) => x.type === 'history')).data).toEqual([]);
    await a.next('first status', (x) => x.type === 'status');
    e.emit({ from: 'standby', to: 'primary', epoch: 4, primaryId: '127.0.0.9', reason: 'primary silent past the timeout' });
    const role = await a.next('role', (x) => x.type === 'role');
    expect(role.data).toMatchObject({ from: 'standby', to: 'primary', epoch: 4, primaryId: '127.0.0.9', reason: 'primary silent past the timeout' });
    expect(Date.parse((role.data as { at: string }).at)).toBeGreaterThan(Date.now() - 60_000);
    // Periodic snapshots (every ~500 ms) keep the page current between role changes.
    await a.next('periodic status', (x) => x.type === 'status');
    await a.next('another periodic status', (x) => x.type === 'status', 2000);

    const b = await openEvents(base);
    cleanup.push(b.close);
    const history = await b.next('history', (x) => x.type === 'history');
    expect(history.data).toMatchObject([{ from: 'standby', to: 'primary', epoch: 4 }]);
  });

  it('derives role changes from snapshots when there is no subscribe option', async () => {
    const { base, setStatus } = await serve({ snapshotIntervalMs: 50 });
    const a = await openEvents(base);
    cleanup.push(a.close);
    await a.next('status', (x) => x.type === 'status');
    await new Promise((r) => setTimeout(r, 120));
    setStatus(fakeStatus({ role: 'primary', epoch: 4, primaryId: '127.0.0.9', reason: 'primary silent past the timeout' }));
    const role = await a.next('role', (x) => x.type === 'role');
    expect(role.data).toMatchObject({ from: 'standby', to: 'primary', epoch: 4, reason: 'primary silent past the timeout' });
  });

  it('serves at most 32 clients at once (503 beyond) and frees a slot when a client leaves', async () => {
    const e = emitter();
    const { svc, base } = await serve({ subscribe: e.subscribe });
    const clients: Awaited<ReturnType<typeof openEvents>>[] = [];
    for (let i = 0; i < 32; i++) {
      const c = await openEvents(base);
      cleanup.push(c.close);
      expect(c.res.status).toBe(200);
      clients.push(c);
    }
    const refused = await fetch(`${base}/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(svc.status!()).toMatchObject({ liveViewClients: 32 });
    clients[0]!.close();
    await until('the slot to free', () => (svc.status!() as { liveViewClients: number }).liveViewClients === 31);
    const again = await openEvents(base);
    cleanup.push(again.close);
    expect(again.res.status).toBe(200);
    // Stopping the server ends every stream and drops the subscription.
    await svc.stop!({} as never);
    await until('streams to end', () => clients.slice(1).every((c) => c.ended()) && again.ended());
    expect(e.count()).toBe(0);
  });
});

describe('GET / (the live view)', () => {
  it('is served by default with the repository diagram and a strict Content-Security-Policy', async () => {
    const { base } = await serve();
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await res.text();
    expect(html).toContain('<g class="state" id="state-standby.watch.watching"');
  });

  it('inlines the SVG from diagramSvgPath, or shows the placeholder when it is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastate-svg-'));
    const file = join(dir, 'role.svg');
    writeFileSync(file, '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><g class="state" id="state-custom"></g></svg>');
    const { base } = await serve({ diagramSvgPath: file });
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('id="state-custom"');
    expect(html).not.toContain('<?xml');
    const { base: missing } = await serve({ diagramSvgPath: join(dir, 'absent.svg') });
    expect(await (await fetch(`${missing}/`)).text()).toContain('diagram not generated: run <code>npm run visualize</code>');
  });

  it('liveView: false turns off / and /events', async () => {
    const { base } = await serve({ liveView: false });
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/events`)).status).toBe(404);
    expect((await fetch(`${base}/status`)).status).toBe(200);
  });
});
