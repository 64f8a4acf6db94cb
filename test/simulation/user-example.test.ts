import { expect, it } from 'vitest';
import { defineService } from '../../src/index.ts';
import { Simulation } from '../../src/testing/index.ts';

// The README's "Testing your services" example, verbatim in substance.
it('README example: a user service on the simulated cluster sees standby, the new epoch, then primary', async () => {
  const seen: string[] = [];
  const billing = defineService({
    name: 'billing',
    onRoleChange: ({ to, epoch }) => void seen.push(`${to}@${epoch}`),
  });
  const sim = new Simulation({ seed: 1, timing: { electionWindowMs: 2000, heartbeatIntervalMs: 3000, heartbeatTimeoutMs: 9000 } });
  sim.addNode({ nodeId: '10.0.0.1' });
  sim.addNode({ nodeId: '10.0.0.2', services: [billing] });
  await sim.runAsync(10_000);
  sim.crash('10.0.0.1');
  await sim.runAsync(30_000);
  expect(seen).toEqual(['electing@0', 'standby@0', 'standby@1', 'primary@2']);
  expect(sim.trace.filter((t) => t.nodeId === '10.0.0.2').map((t) => t.to)).toEqual(['electing', 'standby', 'standby', 'primary']);
});
