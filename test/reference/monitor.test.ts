/**
 * Resource monitor on real loopback multicast: two nodes' monitors share the request group;
 * only the primary answers, from its repository; after a switch the other one does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resourceMonitor } from '../../src/reference/monitor.ts';
import { encodeMonitorRequest, parseMonitorResponse, type MonitorResponse } from '../../src/reference/protocol.ts';
import { Repository } from '../../src/reference/repository.ts';
import { serviceHarness, type ServiceHarness } from '../../src/testing/service-harness.ts';
import { until } from '../until.ts';
import { groupReceiver, randomGroup, sendTo } from './helpers.ts';

let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function pair() {
  const { group, port } = randomGroup();
  const make = (nodeId: string) => {
    const repo = new Repository(60_000);
    repo.replace([{ id: 'b1', slot: 1, status: 'ok' }, { id: 'b2', slot: 2, status: 'critical' }], [{ id: 's1', boards: ['b1', 'b2'], state: 'up' }]);
    const service = resourceMonitor({ repo, group, requestPort: port, responsePort: port + 1, interfaceAddress: '127.0.0.1' });
    const h = serviceHarness(service, { nodeId });
    cleanup.push(() => h.stop());
    return { service, h };
  };
  const a = make('node-a');
  const b = make('node-b');
  const rx = await groupReceiver(group, port + 1);
  cleanup.push(() => rx.close());
  const responses = () => rx.messages.map((m) => parseMonitorResponse(m)).filter((r) => r.ok).map((r) => (r as { value: MonitorResponse }).value);
  return { group, port, a, b, responses };
}

describe('resource monitor', () => {
  it('only the primary answers, with a summary of its repository; the standby counts and drops', async () => {
    const { group, port, a, b, responses } = await pair();
    a.h.role('primary', { epoch: 4 });
    b.h.role('standby', { epoch: 4, primaryId: 'node-a' });
    // Resent until both sockets have joined and heard one.
    await until('both receive a request', async () => {
      await sendTo(group, port, encodeMonitorRequest(77));
      return (a.service.status!().received as number) > 0 && (b.service.status!().received as number) > 0;
    });
    await until('a response', () => responses().length > 0);
    expect(responses().every((r) => r.nodeId === 'node-a')).toBe(true);
    expect(responses()[0]).toMatchObject({ requestId: 77, epoch: 4, boards: 2, healthyBoards: 1, stacks: 1, stale: false });
    expect(b.service.status!().droppedAsStandby as number).toBeGreaterThan(0);
    expect(b.service.status!().answered).toBe(0);
  });

  it('after a switch the new primary answers and the old one stops', async () => {
    const { group, port, a, b, responses } = await pair();
    a.h.role('primary', { epoch: 1 });
    b.h.role('standby', { epoch: 1, primaryId: 'node-a' });
    await until('a answers', async () => {
      await sendTo(group, port, encodeMonitorRequest(1));
      return responses().some((r) => r.nodeId === 'node-a');
    });
    a.h.role('standby', { epoch: 2, primaryId: 'node-b' });
    b.h.role('primary', { epoch: 2 });
    await until('b answers', async () => {
      await sendTo(group, port, encodeMonitorRequest(2));
      return responses().some((r) => r.nodeId === 'node-b' && r.requestId === 2);
    });
    const answeredByA = a.service.status!().answered;
    await sendTo(group, port, encodeMonitorRequest(3));
    await until('b answers request 3', () => responses().some((r) => r.nodeId === 'node-b' && r.requestId === 3));
    await until('a saw request 3 and dropped it', () => (a.service.status!().droppedAsStandby as number) > 0);
    expect(a.service.status!().answered).toBe(answeredByA);
    expect(responses().filter((r) => r.requestId >= 2).every((r) => r.nodeId === 'node-b' && r.epoch === 2)).toBe(true);
  });

  it('garbage requests are counted by reason and answered by nobody', async () => {
    const { group, port, a, responses } = await pair();
    a.h.role('primary', { epoch: 1 });
    await until('a answers a valid request', async () => {
      await sendTo(group, port, encodeMonitorRequest(9));
      return responses().length > 0;
    });
    await sendTo(group, port, Buffer.from('{"type":"monitor-request","requestId":-1}'));
    await sendTo(group, port, Buffer.from('not json'));
    await sendTo(group, port, Buffer.alloc(600, 0x7b));
    await until('three invalid', () => Object.values(a.service.status!().invalid as Record<string, number>).reduce((x, y) => x + y, 0) >= 3);
    expect(a.service.status!().invalid).toMatchObject({ 'bad-request-id': 1, 'bad-json': 1, 'too-large': 1 });
    // Every response answers the valid request; none came from the garbage.
    expect(responses().every((r) => r.requestId === 9)).toBe(true);
    expect(a.h.state().value).toBe('running');
  });
});
