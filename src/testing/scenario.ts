/**
 * A scenario is a plain JSON description of a simulated run: nodes, timing, link faults and
 * a schedule of injected events. Property tests generate scenarios; a failing one is printed
 * as JSON with a one-line command that replays it (scripts/replay.ts).
 */
import type { RoleTiming } from '../../machines/role.machine.ts';
import type { LinkFaults } from './network.ts';
import { Simulation } from './simulation.ts';
import type { SimAuth } from './sim-transport.ts';

export interface ScenarioNode {
  nodeId: string;
  /** The id on the wire when it differs from `nodeId`: a second process with another's id. */
  wireId?: string;
  priority: number;
  startAtMs: number;
  clockRate?: number;
  preempt?: boolean;
}

export type ScenarioEvent =
  | { atMs: number; kind: 'partition'; sides: string[][] }
  | { atMs: number; kind: 'oneway'; from: string; to: string }
  | { atMs: number; kind: 'heal' }
  | { atMs: number; kind: 'crash'; nodeId: string }
  | { atMs: number; kind: 'restart'; nodeId: string }
  | { atMs: number; kind: 'pause'; nodeId: string; durationMs: number }
  | { atMs: number; kind: 'faults'; faults: Partial<LinkFaults> }
  /** Act on whoever holds a role at that moment, so generated schedules need not predict the election. */
  | { atMs: number; kind: 'crash-primary' }
  | { atMs: number; kind: 'resign-primary' }
  /** Pause the `index`-th standby (modulo their count, in node order). */
  | { atMs: number; kind: 'pause-standby'; index: number; durationMs: number };

export interface Scenario {
  seed: number;
  timing: RoleTiming;
  faults?: Partial<LinkFaults>;
  /** ha.auth on every node with one shared key (default off). */
  auth?: SimAuth;
  nodes: ScenarioNode[];
  events: ScenarioEvent[];
  durationMs: number;
}

/** Builds the simulation with every node start and event scheduled; call run() on it. */
export function buildSimulation(s: Scenario): Simulation {
  const sim = new Simulation({ seed: s.seed, timing: s.timing, ...(s.faults ? { faults: s.faults } : {}), ...(s.auth ? { auth: s.auth } : {}) });
  for (const n of s.nodes) {
    sim.addNode({ nodeId: n.nodeId, ...(n.wireId !== undefined ? { wireId: n.wireId } : {}), priority: n.priority, clockRate: n.clockRate ?? 1, preempt: n.preempt ?? false }, n.startAtMs);
  }
  for (const e of s.events) {
    switch (e.kind) {
      case 'partition':
        sim.at(e.atMs, 'partition', () => sim.partition(e.sides));
        break;
      case 'oneway':
        sim.at(e.atMs, 'one-way block', () => sim.blockOneWay(e.from, e.to));
        break;
      case 'heal':
        sim.at(e.atMs, 'heal', () => sim.heal());
        break;
      case 'crash':
        sim.at(e.atMs, `crash ${e.nodeId}`, () => sim.crash(e.nodeId));
        break;
      case 'restart':
        sim.at(e.atMs, `restart ${e.nodeId}`, () => sim.start(e.nodeId));
        break;
      case 'pause':
        sim.at(e.atMs, `pause ${e.nodeId} for ${e.durationMs} ms`, () => sim.pause(e.nodeId, e.durationMs));
        break;
      case 'crash-primary':
        sim.at(e.atMs, 'crash the primary', () => {
          for (const n of sim.primaries()) sim.crash(n.nodeId);
        });
        break;
      case 'resign-primary':
        sim.at(e.atMs, 'resign the primary', () => {
          for (const n of sim.primaries()) sim.resign(n.nodeId);
        });
        break;
      case 'pause-standby':
        sim.at(e.atMs, `pause standby #${e.index} for ${e.durationMs} ms`, () => {
          const standbys = [...sim.nodes.values()].filter((n) => n.alive && n.role === 'standby');
          const victim = standbys[e.index % Math.max(standbys.length, 1)];
          if (victim !== undefined) sim.pause(victim.nodeId, e.durationMs);
        });
        break;
      case 'faults':
        sim.at(e.atMs, `faults ${JSON.stringify(e.faults)}`, () => {
          sim.faults = { ...sim.faults, ...e.faults };
        });
        break;
    }
  }
  return sim;
}

export function runScenario(s: Scenario): Simulation {
  const sim = buildSimulation(s);
  sim.run(s.durationMs);
  return sim;
}

/** The one-line command that replays a scenario and prints its trace. */
export function replayCommand(s: Scenario): string {
  return `npx tsx scripts/replay.ts '${JSON.stringify(s)}'`;
}

export function formatTrace(sim: Simulation): string {
  return sim.trace
    .map((t) => `${t.atMs.toFixed(1).padStart(10)} ms  ${t.nodeId.padEnd(12)} ${t.from.padEnd(8)} -> ${t.to.padEnd(8)} epoch ${t.epoch}  ${t.reason}`)
    .join('\n');
}
