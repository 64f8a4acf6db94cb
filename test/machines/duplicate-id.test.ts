/**
 * The role machine on a manual clock: a second live process with our node id (IDENTITY.CONFLICT
 * from the transport), the epoch a primary takes from a standby, and the heartbeat a primary
 * adds to its answer to an announcement.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ANSWERS_PER_TICK } from '../../machines/role.machine.ts';
import { startNode, timing } from './harness.ts';

const A = '10.0.0.1';
const B = '10.0.0.2';
const TWIN = '10.0.0.9:5405';

function primaryNode() {
  const n = startNode({ nodeId: A });
  n.up();
  n.advance(timing.electionWindowMs);
  expect(n.role()).toBe('primary');
  return n;
}

const conflict = (n: ReturnType<typeof startNode>) => n.actor.send({ type: 'IDENTITY.CONFLICT', from: TWIN });

describe('role machine: duplicate node id', () => {
  it('a primary that hears its own id from another process drops to unknown, and its services leave the primary role', () => {
    const n = primaryNode();
    conflict(n);
    expect(n.role()).toBe('unknown');
    expect(n.ctx().reason).toBe(`duplicate node id: another process at ${TWIN} uses node id ${A}`);
    expect(n.transitions.at(-1)).toMatchObject({ from: 'primary', to: 'unknown' });
  });

  it('a standby and an electing node drop to unknown too', () => {
    const s = startNode({ nodeId: A });
    s.up();
    s.primary({ nodeId: B, epoch: 3 });
    expect(s.role()).toBe('standby');
    conflict(s);
    expect(s.role()).toBe('unknown');
    const e = startNode({ nodeId: A });
    e.up();
    conflict(e);
    expect(e.role()).toBe('unknown');
    // Nor does the election window, running out meanwhile, make it primary.
    e.advance(timing.electionWindowMs);
    expect(e.role()).toBe('unknown');
  });

  it('while the conflict lasts it beats every interval with role unknown, so its twin keeps detecting it', () => {
    const n = primaryNode();
    const before = n.sentOf('heartbeat').length;
    conflict(n);
    expect(n.sentOf('heartbeat').length).toBe(before + 1);
    for (let i = 1; i <= 5; i++) {
      n.advance(timing.heartbeatIntervalMs);
      conflict(n); // the twin's beat
      expect(n.sentOf('heartbeat').length).toBe(before + 1 + i);
      expect(n.role()).toBe('unknown');
    }
    expect(n.sentOf('heartbeat').slice(before).every((m) => m.role === 'unknown')).toBe(true);
  });

  it('answering each datagram of the twin with a datagram is avoided: a burst of conflicts sends nothing extra', () => {
    const n = primaryNode();
    conflict(n);
    const before = n.sent.length;
    for (let i = 0; i < 100; i++) conflict(n);
    expect(n.sent.length).toBe(before);
  });

  it('the conflict ends one timeout and one interval after the twin went silent: the survivor elects itself again on its own', () => {
    const n = primaryNode();
    const epochBefore = n.ctx().epoch;
    conflict(n);
    n.advance(timing.heartbeatTimeoutMs + timing.heartbeatIntervalMs - 1);
    expect(n.role()).toBe('unknown');
    n.advance(1);
    expect(n.role()).toBe('electing');
    expect(n.sentOf('announce').length).toBe(2);
    n.advance(timing.electionWindowMs);
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(epochBefore + 1);
  });

  it('a survivor that finds another primary after the conflict becomes its standby', () => {
    const n = primaryNode();
    conflict(n);
    n.advance(timing.heartbeatTimeoutMs + timing.heartbeatIntervalMs);
    n.primary({ nodeId: B, epoch: 4 });
    expect(n.role()).toBe('standby');
    expect(n.ctx().epoch).toBe(4);
  });

  it('a node forced to primary waits out the conflict too, then takes the role back after the election window', () => {
    const n = startNode({ nodeId: A, mode: 'primary' });
    n.up();
    expect(n.role()).toBe('primary');
    conflict(n);
    expect(n.role()).toBe('unknown');
    n.advance(timing.heartbeatTimeoutMs + timing.heartbeatIntervalMs);
    expect(n.role()).toBe('electing');
    n.primary({ nodeId: B, epoch: 1 }); // a forced primary does not follow during its election
    expect(n.role()).toBe('electing');
    n.advance(timing.electionWindowMs);
    expect(n.role()).toBe('primary');
  });

  it('losing the transport during a conflict is the ordinary fault, and TRANSPORT.UP starts an election', () => {
    const n = primaryNode();
    conflict(n);
    n.actor.send({ type: 'TRANSPORT.DOWN', reason: 'socket error' });
    expect(n.role()).toBe('unknown');
    n.up();
    expect(n.role()).toBe('electing');
  });
});

describe('role machine: epochs grow only on a takeover', () => {
  it('a primary moves above the term a new standby declares, once; the standby\'s heartbeats at that term raise nothing', () => {
    const n = primaryNode();
    const before = n.transitions.length;
    n.standby({ nodeId: B, epoch: 7, declared: true });
    expect(n.ctx().epoch).toBe(8);
    expect(n.ctx().reason).toBe(`moved above the term declared by ${B} (epoch 7)`);
    for (let i = 0; i < 20; i++) {
      n.standby({ nodeId: B, epoch: 7 });
      n.advance(timing.heartbeatIntervalMs);
    }
    expect(n.ctx().epoch).toBe(8);
    expect(n.transitions.length).toBe(before + 1);
  });

  it('a standby holding a newer term than the primary it follows declares it every beat until the primary moved above it', () => {
    const s = startNode({ nodeId: B });
    s.up();
    s.primary({ nodeId: A, epoch: 5 });
    s.advance(timing.heartbeatIntervalMs);
    expect(s.sent.at(-1)).toMatchObject({ type: 'heartbeat', role: 'standby', epoch: 5 });
    s.primary({ nodeId: A, epoch: 3 }); // after a partition: we followed a primary at 5, A is at 3
    for (let i = 0; i < 3; i++) {
      s.advance(timing.heartbeatIntervalMs);
      expect(s.sent.at(-1)).toMatchObject({ type: 'declaration', role: 'standby', epoch: 5 });
      s.primary({ nodeId: A, epoch: 3 });
    }
    s.primary({ nodeId: A, epoch: 6 });
    s.advance(timing.heartbeatIntervalMs);
    expect(s.sent.at(-1)).toMatchObject({ type: 'heartbeat', role: 'standby', epoch: 6 });
  });

  it('a standby that keeps reporting a rival primary\'s newer term in its heartbeats does not raise our epoch', () => {
    const n = primaryNode();
    const epoch = n.ctx().epoch;
    for (let i = 0; i < 20; i++) {
      n.standby({ nodeId: B, epoch: epoch + 1 + i }); // the rival keeps raising
      n.advance(timing.heartbeatIntervalMs);
    }
    expect(n.ctx().epoch).toBe(epoch);
    expect(n.role()).toBe('primary');
  });

  it('a standby follows one live primary: another primary that does not outrank it is noted, not followed', () => {
    const s = startNode({ nodeId: '10.0.0.3' });
    s.up();
    s.primary({ nodeId: A, epoch: 2 });
    const after = s.transitions.length;
    for (let i = 0; i < 10; i++) {
      s.primary({ nodeId: B, epoch: 5 + i });
      s.primary({ nodeId: A, epoch: 2 });
      s.advance(timing.heartbeatIntervalMs);
    }
    expect(s.ctx().primaryId).toBe(A);
    expect(s.ctx().epoch).toBe(2);
    expect(s.transitions.length).toBe(after);
  });

  it('when its primary falls silent while another primary is live, a standby follows that one instead of taking over', () => {
    const s = startNode({ nodeId: '10.0.0.3' });
    s.up();
    s.primary({ nodeId: A, epoch: 2 });
    for (let t = 0; t < timing.heartbeatTimeoutMs; t += timing.heartbeatIntervalMs) {
      s.primary({ nodeId: B, epoch: 3 });
      s.advance(timing.heartbeatIntervalMs);
    }
    expect(s.role()).toBe('standby');
    expect(s.ctx().primaryId).toBe(B);
    expect(s.ctx().epoch).toBe(3);
  });

  it('a standby hearing two primaries with one id at different epochs gets no transition per heartbeat', () => {
    const s = startNode({ nodeId: B });
    s.up();
    s.primary({ nodeId: A, epoch: 5 });
    const after = s.transitions.length;
    for (let i = 0; i < 20; i++) {
      s.primary({ nodeId: A, epoch: 5 });
      s.primary({ nodeId: A, epoch: 4 });
      s.advance(timing.heartbeatIntervalMs);
    }
    expect(s.transitions.length).toBe(after);
    expect(s.ctx().epoch).toBe(5);
  });
});

describe('role machine: a primary answers an announcement with a heartbeat as well', () => {
  it('the answer is a primary heartbeat and a declaration', () => {
    const n = primaryNode();
    const hb = n.sentOf('heartbeat').length;
    n.announce({ nodeId: B });
    expect(n.sentOf('heartbeat').length).toBe(hb + 1);
    expect(n.sentOf('heartbeat').at(-1)).toMatchObject({ role: 'primary', nodeId: A });
    expect(n.sentOf('declaration').at(-1)).toMatchObject({ role: 'primary', nodeId: A });
  });

  it(`a flood of announcements gets at most ${MAX_ANSWERS_PER_TICK} answers per tick`, () => {
    const n = primaryNode();
    for (let tick = 0; tick < 3; tick++) {
      const sent = n.sent.length;
      for (let i = 0; i < 1000; i++) n.announce({ nodeId: `n${i}` });
      expect(n.sent.length - sent).toBe(2 * MAX_ANSWERS_PER_TICK);
      n.advance(timing.heartbeatIntervalMs); // one regular heartbeat, and the budget is back
      expect(n.sent.length - sent).toBe(2 * MAX_ANSWERS_PER_TICK + 1);
    }
  });
});
