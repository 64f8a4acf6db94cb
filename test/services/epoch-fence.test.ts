/**
 * Epoch fence headers and the downstream fence: stamps round-trip through real HTTP headers,
 * malformed stamps are refused with a message naming the header, and the fence refuses a
 * write whose epoch is below the highest seen while admitting equal and higher ones.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createEpochFence, fenceHeaders, readFenceHeaders } from '../../src/index.ts';

describe('fence headers', () => {
  it('round-trip epoch and node id (node ids are percent-encoded)', () => {
    const h = fenceHeaders(42, 'nœud a');
    expect(h).toEqual({ 'Hastate-Epoch': '42', 'Hastate-Node': 'n%C5%93ud%20a' });
    expect(readFenceHeaders(new Headers(h))).toEqual({ ok: true, epoch: 42, nodeId: 'nœud a' });
    expect(readFenceHeaders({ 'hastate-epoch': '0' })).toEqual({ ok: true, epoch: 0, nodeId: null });
  });

  it.each([
    [{}, /missing Hastate-Epoch/],
    [{ 'hastate-epoch': '' }, /Hastate-Epoch header "" is not/],
    [{ 'hastate-epoch': '-1' }, /not a non-negative decimal/],
    [{ 'hastate-epoch': '1e3' }, /not a non-negative decimal/],
    [{ 'hastate-epoch': '007' }, /not a non-negative decimal/],
    [{ 'hastate-epoch': '1234567890123456' }, /at most 15 digits/],
    [{ 'hastate-epoch': ['1', '2'] }, /given 2 times/],
    [{ 'hastate-epoch': '1', 'hastate-node': '%E0%A4%A' }, /Hastate-Node header .* not percent-encoded/],
    [{ 'hastate-epoch': '1', 'hastate-node': 'x'.repeat(65) }, /longer than 64/],
  ])('refuses %j', (headers, message) => {
    const r = readFenceHeaders(headers as Record<string, string>);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(message);
  });

  it('refuses to stamp an epoch that is not a non-negative safe integer', () => {
    expect(() => fenceHeaders(-1, 'a')).toThrow(/epoch/);
    expect(() => fenceHeaders(1.5, 'a')).toThrow(/epoch/);
  });
});

describe('downstream fence', () => {
  it('admits equal and higher epochs, refuses lower ones, and counts refusals', () => {
    const fence = createEpochFence();
    expect(fence.admit(3)).toEqual({ ok: true, epoch: 3, highest: 3 });
    expect(fence.admit(3).ok).toBe(true);
    expect(fence.admit(5).ok).toBe(true);
    const stale = fence.admit(4);
    expect(stale).toMatchObject({ ok: false, epoch: 4, highest: 5 });
    expect(stale.ok ? '' : stale.message).toMatch(/below 5/);
    expect(fence.admit(-1).ok).toBe(false);
    expect(fence.highest).toBe(5);
    expect(fence.refused).toBe(2);
  });

  it('starts from a persisted highest epoch', () => {
    expect(createEpochFence(9).admit(8).ok).toBe(false);
    expect(() => createEpochFence(-1)).toThrow(/initialHighest/);
  });

  let server: http.Server | null = null;
  afterEach(() => {
    server?.close();
    server?.closeAllConnections();
    server = null;
  });

  it('on a real server: a deposed primary (lower epoch) is refused after its successor wrote; unstamped writes are refused', async () => {
    const fence = createEpochFence();
    const writes: string[] = [];
    server = http.createServer((req, res) => {
      const verdict = fence.admitRequest(req.headers);
      if (!verdict.ok) {
        res.writeHead(409, { 'content-type': 'text/plain' });
        return void res.end(verdict.message);
      }
      writes.push(`${verdict.nodeId}@${verdict.epoch}`);
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const write = (headers: Record<string, string>) => fetch(url, { method: 'POST', headers });

    expect((await write(fenceHeaders(1, 'node-a'))).status).toBe(204);
    expect((await write(fenceHeaders(2, 'node-b'))).status).toBe(204);
    const stale = await write(fenceHeaders(1, 'node-a'));
    expect(stale.status).toBe(409);
    expect(await stale.text()).toMatch(/epoch 1 is below 2/);
    const unstamped = await write({});
    expect(unstamped.status).toBe(409);
    expect(await unstamped.text()).toMatch(/missing Hastate-Epoch/);
    expect(writes).toEqual(['node-a@1', 'node-b@2']);
  });
});
