/**
 * hastate/testing: a deterministic simulated cluster for testing the election and your own
 * services without sockets or real time. See README, "Testing your services".
 */
export { Simulation, SimNode, type SimNodeSpec, type SimulationOptions, type TraceEntry } from './simulation.ts';
export { buildSimulation, runScenario, replayCommand, formatTrace, type Scenario, type ScenarioEvent, type ScenarioNode } from './scenario.ts';
export { HEALTHY, Topology, type LinkFaults } from './network.ts';
export { ManualClock } from './manual-clock.ts';
export { Prng } from './prng.ts';
export { serviceHarness, type ServiceHarness } from './service-harness.ts';
