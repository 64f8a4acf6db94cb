/**
 * Replays a simulated scenario and prints its fault log and role-change trace.
 * Usage: npx tsx scripts/replay.ts '<scenario JSON printed by a failing property>'
 */
import { formatTrace, runScenario, type Scenario } from '../src/testing/scenario.ts';

const text = process.argv[2];
if (text === undefined) {
  process.stderr.write("usage: npx tsx scripts/replay.ts '<scenario JSON>'\n");
  process.exit(2);
}
let scenario: Scenario;
try {
  scenario = JSON.parse(text) as Scenario;
} catch (error) {
  process.stderr.write(`replay: the argument is not valid JSON: ${(error as Error).message}\n`);
  process.exit(2);
}
const sim = runScenario(scenario);
process.stdout.write(`faults:\n${sim.faultLog.map((l) => `  ${l}`).join('\n')}\n\ntrace:\n${formatTrace(sim)}\n\nfinal roles: ${JSON.stringify(sim.roles())}\n`);
if (sim.violations.length > 0) process.stdout.write(`violations:\n${sim.violations.join('\n')}\n`);
