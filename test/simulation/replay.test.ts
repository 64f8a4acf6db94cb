import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { replayCommand, runScenario, type Scenario } from '../../src/testing/scenario.ts';

const ROOT = join(import.meta.dirname, '../..');

it('the one-line replay command printed by a failing property reproduces the run exactly', () => {
  const scenario: Scenario = {
    seed: 99,
    timing: { electionWindowMs: 1000, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000 },
    faults: { delayMs: 1, jitterMs: 2, lossRate: 0.05 },
    nodes: [
      { nodeId: '10.0.0.1', priority: 0, startAtMs: 0 },
      { nodeId: '10.0.0.2', priority: 0, startAtMs: 10 },
      { nodeId: '10.0.0.3', priority: 1, startAtMs: 20 },
    ],
    events: [
      { atMs: 10_000, kind: 'partition', sides: [['10.0.0.1'], ['10.0.0.2', '10.0.0.3']] },
      { atMs: 20_000, kind: 'heal' },
      { atMs: 25_000, kind: 'crash', nodeId: '10.0.0.3' },
    ],
    durationMs: 40_000,
  };
  const command = replayCommand(scenario);
  expect(command.startsWith("npx tsx scripts/replay.ts '")).toBe(true);
  const json = command.slice("npx tsx scripts/replay.ts '".length, -1);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', json], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  expect(r.status).toBe(0);
  const sim = runScenario(scenario);
  for (const t of sim.trace) expect(r.stdout).toContain(`${t.nodeId.padEnd(12)} ${t.from.padEnd(8)} -> ${t.to.padEnd(8)} epoch ${t.epoch}`);
  expect(r.stdout).toContain(`final roles: ${JSON.stringify(sim.roles())}`);
  expect(r.stdout).toContain('partition [10.0.0.1] | [10.0.0.2 10.0.0.3]');
});

it('replay refuses a malformed scenario with a clear message and exit code 2', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', '{not json'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/not valid JSON/);
});
