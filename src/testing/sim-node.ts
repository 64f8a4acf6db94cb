/**
 * One process of the simulated multicast cluster, as the simulation sees it: its spec, its
 * current incarnation (actor, transport, epoch store) and what outlives a crash (its disk).
 */
import type { Actor } from 'xstate';
import type { Role, RoleMode, roleMachine } from '../../machines/role.machine.ts';
import type { TransportCore } from '../transport/core.ts';
import type { ServicesActor } from '../services/supervisor.ts';
import type { ServiceDefinition } from '../services/types.ts';
import type { EpochStore } from '../runtime/epoch-store.ts';
import type { Entry } from './scheduler.ts';
import { SIM_STATE_DIR } from './sim-epoch.ts';
import { MemoryFs } from './memory-fs.ts';

export interface SimNodeSpec {
  /** The process's name in the simulation (topology, trace, faults). */
  nodeId: string;
  /**
   * The node id it puts on the wire; defaults to `nodeId`. Two processes with one wireId
   * model a copy-pasted config.
   */
  wireId?: string;
  priority?: number;
  mode?: RoleMode;
  preempt?: boolean;
  /** Local clock speed relative to simulated time: 1.01 runs 1% fast. */
  clockRate?: number;
  services?: readonly ServiceDefinition[];
}

export type RoleActor = Actor<typeof roleMachine>;

export class SimNode {
  actor: RoleActor | null = null;
  /** The services actor of the current incarnation; it hears the role machine's transitions. */
  services: ServicesActor | null = null;
  incarnation = 0;
  paused = false;
  backlog: Entry[] = [];
  role: Role = 'unknown';
  epoch = 0;
  /** The current incarnation's transport core: its stats count what it sent, accepted and dropped. */
  transport: TransportCore | null = null;
  /** Hands a datagram to the current incarnation's socket; null while it is not listening. */
  deliver: ((data: Uint8Array, address: string) => void) | null = null;
  /** Tampered copies delivered to the current incarnation, and how many of them it accepted (auth on: none). */
  tamperedReceived = 0;
  tamperedAccepted = 0;
  /** The node's disk: it outlives crashes, as the real one does. */
  readonly fs = new MemoryFs();
  /** The durable epoch store of the current incarnation (the real store code on `fs`). */
  store: EpochStore | null = null;
  /** The durable epoch when the current incarnation started. */
  durableAtStart = 0;
  constructor(readonly spec: SimNodeSpec) {
    this.fs.mkdirp(SIM_STATE_DIR);
  }
  get nodeId() {
    return this.spec.nodeId;
  }
  get wireId() {
    return this.spec.wireId ?? this.spec.nodeId;
  }
  get alive() {
    return this.actor !== null;
  }
}
