/**
 * The primary gate: its decision in every role (from a hand-made context, so each case is
 * exact), and on a real HTTP server driven by the service harness: a pass carries the epoch
 * headers, and a request whose node loses the primary role while it runs is answered as a
 * switch, its work cancelled through the pass's signal.
 */
import http from 'node:http';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { defineService, primaryGate, type GatePass, type GateRefusal, type ServiceContext } from '../../src/index.ts';
import type { Role, RoleTransition } from '../../src/services/types.ts';
import { serviceHarness, type ServiceHarness } from '../../src/testing/index.ts';
import { freePort } from '../integration/cluster.ts';

function context(t: Partial<RoleTransition> | null, opts: { leaseValid?: boolean; aborted?: boolean } = {}): ServiceContext {
  const transition: RoleTransition | null = t === null ? null : { from: 'unknown', to: 'unknown', epoch: 0, nodeId: 'me', primaryId: null, reason: 'test', ...t };
  const primary = transition?.to === 'primary' && (opts.leaseValid ?? true);
  const controller = new AbortController();
  if (!primary || opts.aborted) controller.abort();
  return {
    name: 'svc',
    nodeId: 'me',
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    restarts: 0,
    current: () => transition,
    isPrimary: () => primary,
    primarySignal: () => controller.signal,
    fail: () => undefined,
  };
}

const refused = (d: ReturnType<ReturnType<typeof primaryGate>['check']>): GateRefusal => {
  expect(d.pass).toBe(false);
  return d as GateRefusal;
};

describe('primary gate decisions', () => {
  const gate = primaryGate({ retryAfterMs: 1500 });

  it('passes on the primary with its epoch, the fence headers and a live primary signal', () => {
    const d = gate.check(context({ to: 'primary', epoch: 7, primaryId: 'me' }));
    expect(d.pass).toBe(true);
    const pass = d as GatePass;
    expect(pass).toMatchObject({ epoch: 7, nodeId: 'me', fence: { 'Hastate-Epoch': '7', 'Hastate-Node': 'me' } });
    expect(pass.signal.aborted).toBe(false);
  });

  it('a standby that knows the primary answers NOT_PRIMARY naming it, with Retry-After rounded up', () => {
    const r = refused(gate.check(context({ to: 'standby', epoch: 7, primaryId: 'node-a' })));
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ code: 'NOT_PRIMARY', role: 'standby', primary: 'node-a', retryAfterMs: 1500 });
    expect(r.headers).toEqual({ 'retry-after': '2', 'x-ha-role': 'standby', 'hastate-primary': 'node-a' });
  });

  it.each<[string, Partial<RoleTransition> | null, Role]>([
    ['before any transition', null, 'unknown'],
    ['electing', { to: 'electing' }, 'electing'],
    ['unknown (fault)', { to: 'unknown' }, 'unknown'],
    ['standby that knows no primary', { to: 'standby', primaryId: null }, 'standby'],
  ])('%s answers SWITCHING_OVER', (_name, t, role) => {
    const r = refused(gate.check(context(t)));
    expect(r.body).toMatchObject({ code: 'SWITCHING_OVER', role, primary: null });
    expect(r.headers['retry-after']).toBe('2');
  });

  it('a primary whose lease lapsed (isPrimary false) or whose primary signal aborted does not pass: SWITCHING_OVER', () => {
    expect(refused(gate.check(context({ to: 'primary', epoch: 3, primaryId: 'me' }, { leaseValid: false }))).body).toMatchObject({ code: 'SWITCHING_OVER', role: 'electing', primary: null });
    expect(refused(gate.check(context({ to: 'primary', epoch: 3, primaryId: 'me' }, { aborted: true }))).code).toBe('SWITCHING_OVER');
  });

  it('adds primaryUrl from locate and the configured error numbers (seed 004: 308000000 while switching)', () => {
    const g = primaryGate({ locate: (id) => (id === 'node-a' ? 'http://10.0.0.1:8080' : null), switchingErrorNo: 308000000, notPrimaryErrorNo: 308000001 });
    expect(refused(g.check(context({ to: 'standby', primaryId: 'node-a' }))).body).toEqual({ code: 'NOT_PRIMARY', role: 'standby', primary: 'node-a', retryAfterMs: 1000, primaryUrl: 'http://10.0.0.1:8080', errorNo: 308000001 });
    expect(refused(g.check(context({ to: 'standby', primaryId: 'node-b' }))).body).not.toHaveProperty('primaryUrl');
    expect(refused(g.check(context({ to: 'electing' }))).body).toEqual({ code: 'SWITCHING_OVER', role: 'electing', primary: null, retryAfterMs: 1000, errorNo: 308000000 });
    expect(g.counters()).toEqual({ passed: 0, notPrimary: 2, switching: 1 });
  });

  it('refuseLost never passes, even when the node is primary again', () => {
    expect(gate.refuseLost(context({ to: 'primary', epoch: 9, primaryId: 'me' })).body).toMatchObject({ code: 'SWITCHING_OVER', role: 'electing' });
    expect(gate.refuseLost(context({ to: 'standby', epoch: 9, primaryId: 'node-b' })).body).toMatchObject({ code: 'NOT_PRIMARY', primary: 'node-b' });
  });

  it('refuses bad options with a message naming the option', () => {
    expect(() => primaryGate({ retryAfterMs: 0 })).toThrow(/retryAfterMs/);
    expect(() => primaryGate({ retryAfterMs: Number.NaN })).toThrow(/retryAfterMs/);
    expect(() => primaryGate({ switchingErrorNo: 1.5 })).toThrow(/switchingErrorNo/);
  });
});

describe('primary gate on a real server', () => {
  let h: ServiceHarness | null = null;
  afterEach(async () => {
    await h?.stop();
    h = null;
  });

  /** A service whose handler waits for `release` before answering, so a test can change the role mid-request. */
  function slowService(port: number) {
    const gate = primaryGate({ retryAfterMs: 1000 });
    let server: http.Server | null = null;
    const started: GatePass[] = [];
    let release: () => void = () => undefined;
    const service = defineService({
      name: 'slow',
      start: (ctx) =>
        new Promise<void>((resolve) => {
          const gated = gate.guard(ctx, async (_req, res, pass) => {
            started.push(pass);
            await new Promise<void>((done, fail) => {
              release = done;
              pass.signal.addEventListener('abort', () => fail(pass.signal.reason), { once: true });
            });
            res.writeHead(200, pass.fence);
            res.end('done');
          });
          // /ready is not gated: it tells the test the socket listens.
          server = http.createServer((req, res) => (req.url === '/ready' ? res.end('ready') : gated(req, res)));
          server.listen(port, '127.0.0.1', () => resolve());
        }),
      stop: () => {
        server?.close();
        server?.closeAllConnections();
      },
    });
    return { service, started, release: () => release() };
  }

  it('a pass answers with the epoch headers; losing the role mid-request aborts the work and answers NOT_PRIMARY', async () => {
    const port = await freePort();
    const s = slowService(port);
    h = serviceHarness(s.service, { nodeId: 'me' });
    h.role('primary', { epoch: 4 });
    await expect.poll(() => fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status, () => 0), { timeout: 5_000 }).toBe(200);

    const first = fetch(`http://127.0.0.1:${port}/`);
    await expect.poll(() => s.started.length, { timeout: 5_000 }).toBe(1);
    s.release();
    const ok = await first;
    expect(ok.status).toBe(200);
    expect(ok.headers.get('hastate-epoch')).toBe('4');
    expect(ok.headers.get('hastate-node')).toBe('me');

    const second = fetch(`http://127.0.0.1:${port}/`);
    await expect.poll(() => s.started.length, { timeout: 5_000 }).toBe(2);
    h.role('standby', { epoch: 5, primaryId: 'node-b' });
    const lost = await second;
    expect(s.started[1]!.signal.aborted).toBe(true);
    expect(lost.status).toBe(503);
    expect(await lost.json()).toEqual({ code: 'NOT_PRIMARY', role: 'standby', primary: 'node-b', retryAfterMs: 1000 });
  });
});
