/**
 * Alert receiver over real HTTP: processed only on the primary (and stored at the API fenced
 * by epoch), 503 with Retry-After naming the primary on a standby, a distinct SWITCHING_OVER
 * while electing, 400/413/415/404/405 for bad requests without harm, keep-alive only while
 * primary.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { alertReceiver } from '../../src/reference/alerts.ts';
import { ApiClient } from '../../src/reference/api-client.ts';
import { startApiStandIn, type ApiStandIn } from '../../src/reference/api-stand-in.ts';
import { Repository } from '../../src/reference/repository.ts';
import { serviceHarness } from '../../src/testing/service-harness.ts';
import { until } from '../until.ts';
import { harnessesStoppedAfterEach } from './helpers.ts';

let standIn: ApiStandIn | null = null;
const harnesses = harnessesStoppedAfterEach(async () => {
  await standIn?.close();
  standIn = null;
});

async function receiver(nodeId: string, o: { keepaliveIntervalMs?: number } = {}) {
  standIn ??= await startApiStandIn();
  const repo = new Repository(60_000);
  const api = new ApiClient({ baseUrl: standIn.url, timeoutMs: 1_000, retries: 0 });
  const service = alertReceiver({ repo, api, host: '127.0.0.1', port: 0, maxBodyBytes: 1024, retryAfterMs: 1500, keepaliveIntervalMs: o.keepaliveIntervalMs ?? 60_000 });
  const h = serviceHarness(service, { nodeId });
  harnesses.push(h);
  const port = await until('listening', () => service.address()?.port);
  return { service, h, repo, url: `http://127.0.0.1:${port}` };
}

const alert = (id: string) => ({ id, boardId: 'board-2', level: 'critical', message: 'fan failure' });
const post = (url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${url}/alerts`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('alert receiver', () => {
  it('the primary processes an alert: 200 after the API has it, with the epoch', async () => {
    const { h, repo, url } = await receiver('node-a');
    h.role('primary', { epoch: 3 });
    const res = await until('processed', async () => {
      const r = await post(url, alert('a-1'));
      return r.status === 200 ? r : undefined;
    });
    expect(await res.json()).toEqual({ code: 'PROCESSED', id: 'a-1', nodeId: 'node-a', epoch: 3 });
    expect(standIn!.stats()).toMatchObject({ alerts: 1, alertIds: ['a-1'], highestEpoch: 3 });
    expect(repo.alerts.map((a) => a.id)).toEqual(['a-1']);
  });

  it('a standby answers 503 with Retry-After and names the primary; nothing is processed', async () => {
    const { h, service, url } = await receiver('node-b');
    h.role('standby', { epoch: 3, primaryId: 'node-a' });
    const res = await until('refused as standby', async () => {
      const r = await post(url, alert('b-1'));
      return r.status === 503 ? r : undefined;
    });
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('x-ha-role')).toBe('standby');
    expect(await res.json()).toEqual({ code: 'NOT_PRIMARY', role: 'standby', primary: 'node-a', retryAfterMs: 1500 });
    expect(standIn!.stats().alerts).toBe(0);
  });

  it('while electing it answers a distinct SWITCHING_OVER; after becoming primary it processes', async () => {
    const { h, url } = await receiver('node-c');
    h.role('electing', { epoch: 3 });
    const res = await post(url, alert('c-1'));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'SWITCHING_OVER', role: 'electing', primary: null });
    h.role('primary', { epoch: 4 });
    await until('processed after the switch', async () => (await post(url, alert('c-1'))).status === 200);
    expect(standIn!.stats().alertIds).toEqual(['c-1']);
  });

  it('a deposed primary (the API knows a newer epoch) is refused at the API and answers SWITCHING_OVER', async () => {
    const a = await receiver('node-a');
    const b = await receiver('node-b');
    b.h.role('primary', { epoch: 7 });
    await until('b processed', async () => (await post(b.url, alert('new'))).status === 200);
    a.h.role('primary', { epoch: 6 });
    const res = await post(a.url, alert('stale'));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'SWITCHING_OVER' });
    expect(standIn!.stats()).toMatchObject({ alertIds: ['new'], refusedStale: 1 });
    expect(a.repo.alerts).toHaveLength(0);
  });

  it('bad requests get 400/413/415/404/405 naming the problem, and the server keeps serving', async () => {
    const { h, service, url } = await receiver('node-d');
    h.role('primary', { epoch: 1 });
    const cases: [Promise<Response>, number, RegExp][] = [
      [post(url, '{"id": "x", '), 400, /BAD_JSON/],
      [post(url, { ...alert('x'), level: 'apocalyptic' }), 400, /level: must be one of/],
      [post(url, { ...alert('x'), extra: 1 }), 400, /extra: unknown field/],
      [post(url, [1, 2]), 400, /body must be a JSON object/],
      [post(url, { ...alert('x'), message: 'm'.repeat(2000) }), 413, /TOO_LARGE/],
      [post(url, alert('x'), { 'content-type': 'text/plain' }), 415, /content-type must be application\/json/],
      [fetch(`${url}/nope`), 404, /NOT_FOUND/],
      [fetch(`${url}/alerts`), 405, /METHOD_NOT_ALLOWED/],
    ];
    for (const [pending, status, body] of cases) {
      const res = await pending;
      expect(res.status).toBe(status);
      expect(await res.text()).toMatch(body);
    }
    // A body over the limit sent without content-length (chunked) is cut off too.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${url}/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(200));
      req.end();
    });
    expect(chunked).toBe(413);
    await until('a valid alert still processed', async () => (await post(url, alert('ok-1'))).status === 200);
    expect(service.status!()).toMatchObject({ invalid: 4, tooLarge: 2 });
    expect(h.state()).toMatchObject({ value: 'running', failures: 0 });
  });

  it('sends the API keep-alive only while primary', async () => {
    const a = await receiver('node-a', { keepaliveIntervalMs: 15 });
    const b = await receiver('node-b', { keepaliveIntervalMs: 15 });
    a.h.role('primary', { epoch: 1 });
    b.h.role('standby', { epoch: 1, primaryId: 'node-a' });
    await until('a sends keep-alives', () => (standIn!.stats().keepalives['node-a'] ?? 0) >= 3);
    a.h.role('standby', { epoch: 2, primaryId: 'node-b' });
    b.h.role('primary', { epoch: 2 });
    await until('b sends keep-alives', () => (standIn!.stats().keepalives['node-b'] ?? 0) >= 1);
    const fromA = standIn!.stats().keepalives['node-a'];
    await until('b sends five more', () => (standIn!.stats().keepalives['node-b'] ?? 0) >= 6);
    expect(standIn!.stats().keepalives['node-a']).toBe(fromA);
    expect(standIn!.stats().lastKeepalive).toEqual({ nodeId: 'node-b', epoch: 2 });
  });
});
