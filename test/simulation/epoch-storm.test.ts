/**
 * The epoch storm without duplicate ids: two primaries that cannot hear each other, and a
 * standby that hears both. Before the fix, each primary re-asserted over the other's term as
 * the standby reported it, every heartbeat (16 epochs in 30 s here), and the standby flipped
 * between them, giving its services a transition per heartbeat.
 */
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/testing/simulation.ts';
import type { ServiceDefinition } from '../../src/services/types.ts';

const A = '10.0.0.1';
const B = '10.0.0.2';
const S = '10.0.0.3';
const TIMING = { electionWindowMs: 2000, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000 };

async function cluster(block: (sim: Simulation) => void) {
  const transitions: string[] = [];
  const recorder: ServiceDefinition = {
    name: 'recorder',
    onRoleChange(t) {
      transitions.push(`${t.from}->${t.to} ${t.epoch} ${t.primaryId}`);
    },
  };
  const sim = new Simulation({ seed: 3, timing: TIMING });
  sim.addNode({ nodeId: A });
  sim.addNode({ nodeId: B });
  sim.addNode({ nodeId: S, services: [recorder] });
  await sim.runAsync(10_000);
  expect(sim.roles()).toEqual({ [A]: 'primary', [B]: 'standby', [S]: 'standby' });
  block(sim);
  const epochsBefore = [A, B, S].map((id) => sim.node(id).epoch);
  const traceBefore = sim.trace.length;
  transitions.length = 0;
  await sim.runAsync(40_000);
  return { sim, epochsBefore, later: sim.trace.slice(traceBefore), transitions };
}

describe('no epoch storm between primaries that cannot hear each other', () => {
  it('blocked both ways, with a standby hearing both: B takes over once, then nobody\'s epoch moves', async () => {
    const { sim, later } = await cluster((s) => {
      s.blockOneWay(A, B);
      s.blockOneWay(B, A);
    });
    expect(sim.roles()).toEqual({ [A]: 'primary', [B]: 'primary', [S]: 'standby' });
    const takeovers = later.filter((t) => t.to === 'primary' && t.from !== 'primary').length;
    expect(takeovers).toBe(1);
    // After B's one takeover, no entry at all: no epoch changes, on any node.
    const afterTakeover = later.slice(later.findIndex((t) => t.to === 'primary') + 1);
    expect(afterTakeover.length, `${afterTakeover.length} entries after the takeover, last: ${JSON.stringify(afterTakeover.at(-1))}`).toBe(0);
    expect(Math.max(...[A, B, S].map((id) => sim.node(id).epoch))).toBeLessThanOrEqual(2);
  });

  it('the standby hearing both primaries sticks to one: its services get no transition per heartbeat', async () => {
    const { transitions } = await cluster((s) => {
      s.blockOneWay(A, B);
      s.blockOneWay(B, A);
    });
    // 40 heartbeats from each primary were heard; at most a couple of transitions are legitimate.
    expect(transitions.length, transitions.slice(-4).join('\n')).toBeLessThanOrEqual(2);
  });

  it('blocked one way (B cannot hear A): A re-asserts over B once, then the epochs stay', async () => {
    const { sim, later } = await cluster((s) => s.blockOneWay(A, B));
    const epochChanges = later.filter((t) => t.from === t.to);
    expect(epochChanges.length, `last: ${JSON.stringify(later.at(-1))}`).toBeLessThanOrEqual(4);
    expect(Math.max(...[A, B, S].map((id) => sim.node(id).epoch))).toBeLessThanOrEqual(4);
  });
});
