/**
 * Yielding after a heal: the yielded primary's term must reach the survivor even when the
 * survivor never heard it as primary (see test/simulation/yield-epoch.test.ts for the run that
 * found this).
 */
import { describe, expect, it } from 'vitest';
import { startNode, timing } from './harness.ts';

const A = '10.0.0.1';
const B = '10.0.0.2';
const C = '10.0.0.3';

/** A lone node that won its election at `epoch` (an earlier run made epoch - 1 durable). */
function primaryAt(nodeId: string, epoch: number) {
  const n = startNode({ nodeId, epoch: epoch - 1 });
  n.up();
  n.advance(timing.electionWindowMs);
  expect(n.role()).toBe('primary');
  expect(n.ctx().epoch).toBe(epoch);
  return n;
}

describe('role machine: a yielding primary declares the term it held', () => {
  it('yielding to a primary at a lower epoch, it declares its term as primary, then its standby role', () => {
    const n = primaryAt(B, 3);
    const before = n.sent.length;
    n.primary({ nodeId: A, epoch: 1 });
    expect(n.role()).toBe('standby');
    expect(n.sent.slice(before)).toEqual([
      { type: 'declaration', role: 'primary', nodeId: B, priority: 0, epoch: 3 },
      { type: 'declaration', role: 'standby', nodeId: B, priority: 0, epoch: 3 },
    ]);
  });

  it('yielding to a primary at the same epoch (another term), it declares it too', () => {
    const n = primaryAt(B, 3);
    const before = n.sent.length;
    n.primary({ nodeId: A, epoch: 3 });
    expect(n.sent.slice(before).map((m) => `${m.type} ${m.role} ${m.epoch}`)).toEqual(['declaration primary 3', 'declaration standby 3']);
  });

  it('yielding to a primary already above its term, it only declares standby', () => {
    const n = primaryAt(B, 3);
    const before = n.sent.length;
    n.primary({ nodeId: A, epoch: 4 });
    expect(n.role()).toBe('standby');
    expect(n.sent.slice(before)).toEqual([{ type: 'declaration', role: 'standby', nodeId: B, priority: 0, epoch: 4 }]);
  });

  it('while the primary it follows holds that same epoch, it claims the term again every beat, until the primary moves above', () => {
    const n = primaryAt(B, 3);
    n.primary({ nodeId: A, epoch: 3 }); // its yield claim is lost on the wire
    const claims = () => n.sentOf('declaration').filter((m) => m.role === 'primary' && m.epoch === 3).length;
    const before = claims();
    n.advance(timing.heartbeatIntervalMs);
    expect(claims()).toBe(before + 1);
    expect(n.sentOf('heartbeat').at(-1)).toMatchObject({ role: 'standby', epoch: 3 });
    n.primary({ nodeId: A, epoch: 3 });
    n.advance(timing.heartbeatIntervalMs);
    expect(claims()).toBe(before + 2);
    n.primary({ nodeId: A, epoch: 4 }); // the primary moved above our term
    n.advance(timing.heartbeatIntervalMs * 2);
    expect(claims()).toBe(before + 2);
    expect(n.role()).toBe('standby');
  });

  it('a standby that never was primary never claims a term', () => {
    const n = startNode({ nodeId: B });
    n.up();
    n.primary({ nodeId: A, epoch: 1 });
    n.advance(timing.heartbeatIntervalMs * 2);
    expect(n.role()).toBe('standby');
    expect(n.sent.filter((m) => m.role === 'primary')).toEqual([]);
  });

  it('the survivor, already moved to that same epoch by another yielder, moves above the declared term', () => {
    const n = primaryAt(A, 1);
    n.standby({ nodeId: C, epoch: 2, declared: true }); // the first yielder's standby declaration
    expect(n.ctx().epoch).toBe(3);
    // The second yielder held 3; as a standby declaration alone, 3 would read as our own term.
    n.standby({ nodeId: B, epoch: 3, declared: true });
    expect(n.ctx().epoch).toBe(3);
    n.actor.send({ type: 'PEER.PRIMARY', peer: { nodeId: B, priority: 0, role: 'primary', epoch: 3, declared: true } });
    expect(n.role()).toBe('primary');
    expect(n.ctx().epoch).toBe(4);
  });
});
