/** BMC receiver on real loopback multicast: the primary processes into the repository, a standby drops, garbage is counted. */
import { describe, expect, it } from 'vitest';
import { bmcReceiver } from '../../src/reference/bmc.ts';
import { encodeBmcStatus } from '../../src/reference/protocol.ts';
import { Repository } from '../../src/reference/repository.ts';
import { serviceHarness } from '../../src/testing/service-harness.ts';
import { until } from '../until.ts';
import { harnessesStoppedAfterEach, randomGroup, sendTo } from './helpers.ts';

const harnesses = harnessesStoppedAfterEach();

describe('BMC receiver', () => {
  it('processes on the primary, drops on the standby, and switches with the role', async () => {
    const { group, port } = randomGroup();
    const repoA = new Repository(60_000);
    const repoB = new Repository(60_000);
    const a = bmcReceiver({ repo: repoA, group, port, interfaceAddress: '127.0.0.1' });
    const b = bmcReceiver({ repo: repoB, group, port, interfaceAddress: '127.0.0.1' });
    const ha = serviceHarness(a, { nodeId: 'a' });
    const hb = serviceHarness(b, { nodeId: 'b' });
    harnesses.push(ha, hb);
    ha.role('primary', { epoch: 1 });
    hb.role('standby', { epoch: 1, primaryId: 'a' });
    await until('both receive', async () => {
      await sendTo(group, port, encodeBmcStatus({ boardId: 'board-3', health: 'critical', temperatureC: 91 }));
      return (a.status!().received as number) > 0 && (b.status!().received as number) > 0;
    });
    expect(repoA.bmc.get('board-3')).toMatchObject({ health: 'critical', temperatureC: 91 });
    expect(repoB.bmc.size).toBe(0);
    expect(b.status!().droppedAsStandby as number).toBeGreaterThan(0);

    ha.role('standby', { epoch: 2, primaryId: 'b' });
    hb.role('primary', { epoch: 2 });
    await until('b processes after the switch', async () => {
      await sendTo(group, port, encodeBmcStatus({ boardId: 'board-4', health: 'warning', temperatureC: null }));
      return repoB.bmc.has('board-4');
    });
    await until('a dropped it', () => (a.status!().droppedAsStandby as number) > 0);
    expect(repoA.bmc.has('board-4')).toBe(false);
  });

  it('invalid datagrams are counted by reason and change nothing', async () => {
    const { group, port } = randomGroup();
    const repo = new Repository(60_000);
    const s = bmcReceiver({ repo, group, port, interfaceAddress: '127.0.0.1' });
    const h = serviceHarness(s);
    harnesses.push(h);
    h.role('primary', { epoch: 1 });
    await until('socket open', async () => {
      await sendTo(group, port, Buffer.from('{"type":"bmc-status","boardId":"x","health":"on fire"}'));
      return (s.status!().received as number) > 0;
    });
    await sendTo(group, port, Buffer.from('{"type":"bmc-status","boardId":"x","health":"ok","temperatureC":1e9}'));
    await sendTo(group, port, Buffer.from([0xff, 0xfe, 0x00]));
    await until('the other two invalid', () => {
      const inv = s.status!().invalid as Record<string, number>;
      return inv['bad-temperature'] === 1 && inv['not-utf8'] === 1;
    });
    expect((s.status!().invalid as Record<string, number>)['bad-health']).toBeGreaterThanOrEqual(1);
    expect(repo.bmc.size).toBe(0);
  });
});
