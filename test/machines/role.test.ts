import { describe, expect, it } from 'vitest';
import { startNode, timing } from './harness.ts';

const A = '10.0.0.1';
const B = '10.0.0.2';
const C = '10.0.0.3';

describe('role machine: start-up election', () => {
  it('stays unknown until the transport is up, then announces and elects', () => {
    const n = startNode({ nodeId: A });
    n.advance(60_000);
    expect(n.role()).toBe('unknown');
    expect(n.sent).toEqual([]);
    n.up();
    expect(n.role()).toBe('electing');
    expect(n.sentOf('announce')).toEqual([{ type: 'announce', role: 'unknown', nodeId: A, priority: 0, epoch: 0 }]);
  });

  it('a lone node becomes primary after the election window with epoch 1 and then heartbeats every interval', () => {
    const n = startNode({ nodeId: A });
    n.up();
    n.advance(timing.electionWindowMs - 1);
    expect(n.role()).toBe('electing');
    n.advance(1);
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(1);
    expect(n.sentOf('declaration')).toMatchObject([{ role: 'primary', epoch: 1 }]);
    const before = n.sentOf('heartbeat').length;
    n.advance(timing.heartbeatIntervalMs * 5);
    expect(n.sentOf('heartbeat').length - before).toBe(5);
    expect(n.sentOf('heartbeat').every((m) => m.role === 'primary')).toBe(true);
  });

  it('a primary heartbeat inside the window makes the node standby at once, adopting the epoch', () => {
    const n = startNode({ nodeId: A, priority: 100 });
    n.up();
    n.advance(500);
    n.primary({ nodeId: B, priority: 1, epoch: 7 });
    expect(n.role()).toBe('standby');
    expect(n.ctx().epoch).toBe(7);
    expect(n.ctx().primaryId).toBe(B);
  });

  it('priority decides: a higher-priority candidate wins over a lower IP', () => {
    const n = startNode({ nodeId: A, priority: 50 });
    n.up();
    n.announce({ nodeId: B, priority: 100 });
    n.advance(timing.electionWindowMs);
    expect(n.role()).toBe('standby');
  });

  it('equal priorities: the numerically lower IPv4 wins (not string order)', () => {
    const low = startNode({ nodeId: '192.168.1.9' });
    low.up();
    low.announce({ nodeId: '192.168.1.10' });
    low.advance(timing.electionWindowMs);
    expect(low.role()).toBe('primary');

    const high = startNode({ nodeId: '192.168.1.10' });
    high.up();
    high.announce({ nodeId: '192.168.1.9' });
    high.advance(timing.electionWindowMs);
    expect(high.role()).toBe('standby');
  });

  it('an electing node answers a new announcement once, so a node that started a moment later learns of it', () => {
    const n = startNode({ nodeId: A });
    n.up();
    n.announce({ nodeId: B });
    n.announce({ nodeId: B });
    expect(n.sentOf('declaration')).toEqual([{ type: 'declaration', role: 'unknown', nodeId: A, priority: 0, epoch: 0 }]);
    n.actor.send({ type: 'PEER.ELECTING', peer: { nodeId: C, priority: 0, role: 'unknown', epoch: 0 } });
    expect(n.sentOf('declaration').length).toBe(1);
    expect(Object.keys(n.ctx().candidates)).toEqual([B, C]);
  });

  it('a standby heartbeat heard while electing counts as a candidate and raises the epoch', () => {
    const n = startNode({ nodeId: B });
    n.up();
    n.standby({ nodeId: A, epoch: 4 });
    n.advance(timing.electionWindowMs);
    expect(n.role()).toBe('standby');
    expect(n.ctx().epoch).toBe(4);
  });
});

describe('role machine: failover', () => {
  function standbyOf(primaryId: string, nodeId: string, epoch = 1) {
    const n = startNode({ nodeId });
    n.up();
    n.primary({ nodeId: primaryId, epoch });
    expect(n.role()).toBe('standby');
    return n;
  }

  it('a standby that keeps hearing heartbeats never takes over', () => {
    const n = standbyOf(A, B);
    for (let i = 0; i < 100; i++) {
      n.advance(timing.heartbeatIntervalMs);
      n.primary({ nodeId: A });
    }
    expect(n.role()).toBe('standby');
    expect(n.transitions.map((t) => t.to)).toEqual(['electing', 'standby']);
  });

  it('two nodes: the standby takes over exactly at the timeout with the next epoch', () => {
    const n = standbyOf(A, B, 3);
    n.advance(timing.heartbeatTimeoutMs - 1);
    expect(n.role()).toBe('standby');
    n.advance(1);
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(4);
    expect(n.transitions.at(-1)).toMatchObject({ from: 'standby', to: 'primary', epoch: 4, primaryId: B });
  });

  it('standbys send standby heartbeats so peers know who is alive', () => {
    const n = standbyOf(A, B);
    n.advance(timing.heartbeatIntervalMs);
    expect(n.sentOf('heartbeat').at(-1)).toMatchObject({ role: 'standby', nodeId: B, epoch: 1 });
  });

  it('three nodes: a standby that knows a better live standby re-elects instead of taking over', () => {
    const n = standbyOf(A, C);
    n.standby({ nodeId: B });
    n.advance(timing.heartbeatTimeoutMs);
    expect(n.role()).toBe('electing');
    n.primary({ nodeId: B, epoch: 2 });
    expect(n.role()).toBe('standby');
    expect(n.ctx().epoch).toBe(2);
  });

  it('three nodes: the best live standby takes over directly', () => {
    const n = standbyOf(A, B);
    n.standby({ nodeId: C });
    n.advance(timing.heartbeatTimeoutMs);
    expect(n.role()).toBe('primary');
  });

  it('a better standby that went silent is forgotten, so the next best does not wait for it', () => {
    const n = standbyOf(A, C);
    n.standby({ nodeId: B });
    // B is never heard again; A keeps beating for a while, then dies.
    for (let i = 0; i < 4; i++) {
      n.advance(timing.heartbeatIntervalMs);
      n.primary({ nodeId: A });
    }
    n.advance(timing.heartbeatTimeoutMs);
    expect(n.role()).toBe('primary');
  });

  it('a heartbeat that arrives while silence is being confirmed cancels the takeover', () => {
    const n = startNode({ nodeId: B }, { holdSilence: true });
    n.up();
    n.primary({ nodeId: A });
    n.advance(timing.heartbeatTimeoutMs);
    expect(n.actor.getSnapshot().matches({ standby: { watch: 'confirmingSilence' } })).toBe(true);
    n.primary({ nodeId: A });
    n.releaseSilence();
    expect(n.role()).toBe('standby');
    expect(n.actor.getSnapshot().matches({ standby: { watch: 'watching' } })).toBe(true);
    n.advance(timing.heartbeatTimeoutMs - 1);
    expect(n.role()).toBe('standby');
  });
});

describe('role machine: conflicts between primaries', () => {
  function primaryNode(nodeId: string, priority = 0) {
    const n = startNode({ nodeId, priority });
    n.up();
    n.advance(timing.electionWindowMs);
    expect(n.role()).toBe('primary');
    return n;
  }

  it('a primary yields to a higher-ranked primary and adopts its epoch', () => {
    const n = primaryNode(B);
    n.primary({ nodeId: A, epoch: 5 });
    expect(n.role()).toBe('standby');
    expect(n.ctx()).toMatchObject({ epoch: 5, primaryId: A });
    expect(n.sentOf('declaration').at(-1)).toMatchObject({ role: 'standby' });
  });

  it('a primary re-asserts over a lower-ranked primary with an epoch above both', () => {
    const n = primaryNode(A);
    const before = n.sentOf('heartbeat').length;
    n.primary({ nodeId: B, epoch: 6 });
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(7);
    expect(n.sentOf('heartbeat').length).toBe(before + 1);
    expect(n.transitions.at(-1)).toMatchObject({ from: 'primary', to: 'primary', epoch: 7 });
  });

  it('re-assertion is rate-limited to once per tick when the epoch is already ahead', () => {
    const n = primaryNode(A);
    n.primary({ nodeId: B, epoch: 1 }); // epoch 1 >= 1 -> bump to 2 and answer
    const before = n.sentOf('heartbeat').length;
    for (let i = 0; i < 50; i++) n.primary({ nodeId: B, epoch: 1 });
    expect(n.sentOf('heartbeat').length).toBe(before);
  });

  it('a higher priority beats a lower IP in a conflict', () => {
    const n = primaryNode(A, 1);
    n.primary({ nodeId: B, priority: 2 });
    expect(n.role()).toBe('standby');
  });

  it('a primary answers an announcement with a role declaration', () => {
    const n = primaryNode(A);
    n.announce({ nodeId: B });
    expect(n.sentOf('declaration').at(-1)).toMatchObject({ role: 'primary', nodeId: A });
  });

  it('a primary that learns of a newer epoch from a standby\'s declaration moves above it', () => {
    const n = primaryNode(A);
    n.standby({ nodeId: B, epoch: 9, declared: true });
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(10);
  });
});

describe('role machine: preempt and forced roles', () => {
  it('preempt: false (the default) leaves a live lower-ranked primary in place', () => {
    const n = startNode({ nodeId: A, priority: 100 });
    n.up();
    n.primary({ nodeId: B, priority: 1 });
    n.primary({ nodeId: B, priority: 1 });
    expect(n.role()).toBe('standby');
  });

  it('preempt: true takes over from a lower-ranked primary with a newer epoch', () => {
    const n = startNode({ nodeId: A, priority: 100, preempt: true });
    n.up();
    n.primary({ nodeId: B, priority: 1, epoch: 3 });
    expect(n.role()).toBe('standby');
    n.primary({ nodeId: B, priority: 1, epoch: 3 });
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(4);
  });

  it('role: primary skips the election and never yields', () => {
    const n = startNode({ nodeId: B, mode: 'primary' });
    n.up();
    expect(n.role()).toBe('primary');
    n.primary({ nodeId: A, priority: 1000 });
    expect(n.role()).toBe('primary');
  });

  it('role: standby skips the election and never takes over', () => {
    const n = startNode({ nodeId: A, priority: 1000, mode: 'standby' });
    n.up();
    expect(n.role()).toBe('standby');
    n.advance(timing.heartbeatTimeoutMs * 10);
    expect(n.role()).toBe('standby');
    expect(n.sentOf('announce')).toEqual([]);
  });
});

describe('role machine: transport loss and services', () => {
  it('losing the transport drops any role to unknown and services hear it', () => {
    const n = startNode({ nodeId: A });
    n.up();
    n.advance(timing.electionWindowMs);
    n.actor.send({ type: 'TRANSPORT.DOWN', reason: 'interface gone' });
    expect(n.role()).toBe('unknown');
    expect(n.transitions.at(-1)).toMatchObject({ from: 'primary', to: 'unknown', reason: 'transport down: interface gone' });
    n.up();
    expect(n.role()).toBe('electing');
  });

  it('services receive every role change with from, to and epoch', () => {
    const n = startNode({ nodeId: B });
    n.up();
    n.primary({ nodeId: A, epoch: 1 });
    n.advance(timing.heartbeatTimeoutMs);
    expect(n.transitions.map(({ from, to, epoch }) => ({ from, to, epoch }))).toEqual([
      { from: 'unknown', to: 'electing', epoch: 0 },
      { from: 'electing', to: 'standby', epoch: 1 },
      { from: 'standby', to: 'primary', epoch: 2 },
    ]);
  });
});

describe('role machine: graceful hand-over', () => {
  const leaving = (nodeId: string, epoch = 1) => ({ type: 'PEER.LEAVING' as const, peer: { nodeId, priority: -2147483648, role: 'standby' as const, epoch } });

  it('RESIGN makes a primary tell its peers it is leaving (twice) and step down to standby', () => {
    const n = startNode({ nodeId: A, preempt: true });
    n.up();
    n.advance(timing.electionWindowMs);
    n.actor.send({ type: 'RESIGN' });
    expect(n.role()).toBe('standby');
    const leavingSent = n.sent.filter((m) => m.type === 'declaration' && m.priority === -2147483648);
    expect(leavingSent).toEqual([
      { type: 'declaration', role: 'standby', nodeId: A, priority: -2147483648, epoch: 1 },
      { type: 'declaration', role: 'standby', nodeId: A, priority: -2147483648, epoch: 1 },
    ]);
    expect(n.ctx()).toMatchObject({ preempt: false, primaryId: null });
    expect(n.transitions.at(-1)).toMatchObject({ from: 'primary', to: 'standby', reason: 'resigned: handing over to the best standby' });
  });

  it('RESIGN is ignored by a node that is not primary', () => {
    const n = startNode({ nodeId: B });
    n.up();
    n.primary({ nodeId: A });
    n.actor.send({ type: 'RESIGN' });
    expect(n.role()).toBe('standby');
    expect(n.ctx().primaryId).toBe(A);
  });

  it('the best standby takes over at once when its primary leaves, without waiting for the timeout', () => {
    const n = startNode({ nodeId: B });
    n.up();
    n.primary({ nodeId: A, epoch: 3 });
    n.actor.send(leaving(A, 3));
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(4);
    expect(n.transitions.at(-1)).toMatchObject({ from: 'standby', to: 'primary', reason: 'the primary handed over' });
  });

  it('a standby that knows a better live standby re-elects when the primary leaves', () => {
    const n = startNode({ nodeId: C });
    n.up();
    n.primary({ nodeId: A });
    n.standby({ nodeId: B });
    n.actor.send(leaving(A));
    expect(n.role()).toBe('electing');
  });

  it('a leaving announcement from a node that is not our primary changes nothing', () => {
    const n = startNode({ nodeId: C });
    n.up();
    n.primary({ nodeId: A });
    n.actor.send(leaving(B));
    expect(n.role()).toBe('standby');
    expect(n.ctx().primaryId).toBe(A);
  });

  it('a leaving declaration below the epoch we heard our primary hold is stale and changes nothing', () => {
    const n = startNode({ nodeId: B });
    n.up();
    n.primary({ nodeId: A, epoch: 5 });
    n.actor.send(leaving(A, 4)); // a late farewell for an earlier incarnation of A
    expect(n.role()).toBe('standby');
    expect(n.ctx().primaryId).toBe(A);
    n.actor.send(leaving(A, 5));
    expect(n.role()).toBe('primary');
  });

  it('a forced standby does not take over on a hand-over', () => {
    const n = startNode({ nodeId: B, mode: 'standby' });
    n.up();
    n.primary({ nodeId: A });
    n.actor.send(leaving(A));
    expect(n.role()).toBe('standby');
  });

  it('a stale heartbeat from the departed primary, reordered behind its leaving declaration, does not make the new primary yield', () => {
    const n = startNode({ nodeId: B });
    n.up();
    n.primary({ nodeId: A, epoch: 3 });
    n.actor.send(leaving(A, 3));
    expect(n.role()).toBe('primary');
    n.primary({ nodeId: A, epoch: 3 }); // sent before the leave, delivered after it
    expect(n.role()).toBe('primary');
    n.primary({ nodeId: A, epoch: 9 }); // a genuine new term from A is a real conflict again
    expect(n.role()).toBe('standby');
  });
});
