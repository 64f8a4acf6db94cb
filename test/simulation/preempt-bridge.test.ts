/**
 * Found while fixing the yield epoch bug: in a partition with a bridge, a standby with preempt
 * on that follows the best primary preempted every lower-ranked primary it also heard, then
 * yielded back to the best, every few seconds. A primary worse than the one it follows is now
 * only noted, as for a standby without preempt.
 */
import { describe, expect, it } from 'vitest';
import { runScenario, type Scenario } from '../../src/testing/scenario.ts';

const BRIDGE = '10.0.0.2';

const scenario: Scenario = {
  seed: 7,
  timing: { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000, electionWindowMs: 500 },
  nodes: [
    { nodeId: '10.0.0.1', priority: 3, startAtMs: 0 },
    { nodeId: BRIDGE, priority: 2, startAtMs: 0, preempt: true },
    { nodeId: '10.0.0.3', priority: 1, startAtMs: 0 },
  ],
  // 10.0.0.2 hears both sides; 10.0.0.1 and 10.0.0.3 do not hear each other.
  events: [{ atMs: 5000, kind: 'partition', sides: [['10.0.0.1', BRIDGE], [BRIDGE, '10.0.0.3']] }],
  durationMs: 40_000,
  faults: { delayMs: 1, jitterMs: 2 },
};

describe('a preempting standby on a bridge', () => {
  it('stays the standby of the best primary instead of flapping against the lower-ranked one', () => {
    const sim = runScenario(scenario);
    const bridgeChanges = sim.trace.filter((t) => t.nodeId === BRIDGE && t.atMs > 5000);
    expect(bridgeChanges.filter((t) => t.to === 'primary'), JSON.stringify(bridgeChanges)).toEqual([]);
    expect(sim.roles()[BRIDGE]).toBe('standby');
    // Each side keeps its primary: the bridge does not carry terms between them.
    expect(sim.roles()['10.0.0.1']).toBe('primary');
  });
});
