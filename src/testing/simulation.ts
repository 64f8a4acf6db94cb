/**
 * A deterministic simulated cluster: N nodes, each running the real role machine, the real
 * transport core (encode, auth trailer, receiveDatagram, silence confirmation) and real
 * service actors, on one simulated clock, exchanging the real 52-byte (or tagged) datagrams
 * over an in-memory network with injected faults. Every random choice comes from one seeded
 * PRNG, so a run replays exactly from its seed and schedule.
 */
import pino from 'pino';
import { createActor } from 'xstate';
import { roleMachine, type Role, type RoleTiming, type SendEvent } from '../../machines/role.machine.ts';
import type { AuthPolicy } from '../transport/auth.ts';
import { createServicesActor } from '../services/supervisor.ts';
import { HEALTHY, LinkState, tamper, Topology, type LinkFaults } from './network.ts';
import { Prng } from './prng.ts';
import { Phase, resumeOwner, runAsOwner, Scheduler, type Entry } from './scheduler.ts';
import { openSimEpochStore, simPersistEpoch } from './sim-epoch.ts';
import { apiMisuse } from '../assert.ts';
import { createSimTransport, SIM_WALL_EPOCH_MS, simAuthPolicy, type SimAuth } from './sim-transport.ts';
import { SimNode, type SimNodeSpec } from './sim-node.ts';
import { followRoles, recordCrash, type TraceEntry } from './role-trace.ts';
import { simFarewell } from './sim-farewell.ts';

export { SIM_STATE_DIR } from './sim-epoch.ts';
export { SimNode, type SimNodeSpec } from './sim-node.ts';
export type { TraceEntry } from './role-trace.ts';

export interface SimulationOptions {
  seed: number;
  timing: RoleTiming;
  faults?: Partial<LinkFaults>;
  /** ha.auth on every node, with one key shared by all (default: off). */
  auth?: SimAuth;
}

export class Simulation {
  readonly scheduler = new Scheduler();
  readonly prng: Prng;
  readonly topology = new Topology();
  readonly links = new LinkState();
  readonly nodes = new Map<string, SimNode>();
  readonly trace: TraceEntry[] = [];
  /** Human-readable log of injected faults, printed with a failing seed. */
  readonly faultLog: string[] = [];
  /** Invariant violations seen while running (epoch decreasing on a node). */
  readonly violations: string[] = [];
  faults: LinkFaults;
  /** Sees every datagram a node puts on the simulated network (tests), before any fault. */
  onWire: ((from: string, data: Uint8Array) => void) | null = null;
  readonly timing: RoleTiming;
  readonly #log = pino({ level: 'silent' });
  readonly #seed: number;
  readonly #auth: AuthPolicy;

  constructor(opts: SimulationOptions) {
    this.#seed = opts.seed;
    this.#auth = simAuthPolicy(opts.auth ?? { mode: 'off' }, opts.seed);
    this.prng = new Prng(opts.seed);
    this.timing = opts.timing;
    this.faults = { ...HEALTHY, ...opts.faults };
  }

  get nowMs(): number {
    return this.scheduler.nowMs;
  }

  addNode(spec: SimNodeSpec, startAtMs = 0): SimNode {
    if (this.nodes.has(spec.nodeId)) throw apiMisuse(`duplicate node ${spec.nodeId}`, Error);
    const node = new SimNode(spec);
    this.nodes.set(spec.nodeId, node);
    this.at(startAtMs, `start ${spec.nodeId}`, () => this.start(spec.nodeId));
    return node;
  }

  node(id: string): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw apiMisuse(`no node ${id}`, Error);
    return n;
  }

  /** Schedule a simulation action (fault injection, checks) at an absolute simulated time. */
  at(atMs: number, description: string, fn: () => void): void {
    this.scheduler.push(atMs, Phase.Timer, null, () => {
      this.faultLog.push(`${this.nowMs.toFixed(1)} ms: ${description}`);
      fn();
    });
  }

  start(id: string): void {
    const node = this.node(id);
    if (node.alive) return;
    node.incarnation++;
    node.paused = false;
    node.backlog = [];
    node.role = 'unknown';
    const incarnation = node.incarnation;
    // Each incarnation is a fresh process (its pid is the incarnation): the lock of a crashed
    // one is stale, and the epoch comes back from the disk only.
    node.fs.livePids.add(incarnation);
    const store = openSimEpochStore(node.fs, id, incarnation);
    node.store = store;
    node.durableAtStart = store.epoch;
    node.epoch = store.epoch;
    // A random start per incarnation, as the real transport does; from its own generator so
    // that adding it left the main stream (and every recorded seed) unchanged.
    let h = this.#seed ^ incarnation;
    for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
    const net = createSimTransport({
      wireId: node.wireId,
      startSequence: new Prng(h).nextUint32(),
      auth: this.#auth,
      host: {
        onLoop: (phase, fn) => this.#onNode(node, incarnation, this.nowMs, phase, fn),
        nowMs: () => this.nowMs,
        broadcast: (data) => this.#broadcast(node, data),
        observeSend: (event) => this.#checkSend(node, event),
      },
    });
    node.transport = net.core;
    node.deliver = net.deliver;
    node.tamperedReceived = 0;
    node.tamperedAccepted = 0;
    const rate = node.spec.clockRate ?? 1;
    const clock = {
      setTimeout: (fn: () => void, ms: number) => this.#onNode(node, incarnation, this.nowMs + ms / rate, Phase.Timer, fn),
      clearTimeout: (entry: unknown) => {
        (entry as Entry).cancelled = true;
      },
    };
    const machine = roleMachine.provide({
      actors: {
        transport: net.transport,
        confirmSilence: net.confirmSilence,
        // The real store on the in-memory disk, completing on the node's own event loop.
        persistEpoch: simPersistEpoch(store, (fn) => this.#onNode(node, incarnation, this.nowMs, Phase.Immediate, fn)),
      },
    });
    const actor = createActor(machine, {
      clock,
      input: {
        nodeId: node.wireId,
        priority: node.spec.priority ?? 0,
        mode: node.spec.mode ?? 'auto',
        preempt: node.spec.preempt ?? false,
        timing: this.timing,
        epoch: store.epoch,
      },
    });
    node.actor = actor;
    const services = createServicesActor({ definitions: node.spec.services ?? [], runner: { nodeId: node.wireId, log: this.#log, pendingStops: new Set() }, clock });
    node.services = services;
    actor.on('ROLE.CHANGED', (event) => services.send(event));
    services.start();
    // Seen epochs are written in the background by the real node; here at once.
    actor.subscribe((snapshot) => void store.record(Math.max(snapshot.context.epoch, snapshot.context.maxSeenEpoch)));
    followRoles(actor, node, this);
    actor.start();
  }

  /** The process dies: its state is gone, its queued timers and datagrams are discarded. */
  crash(id: string): void {
    const node = this.node(id);
    const actor = node.actor;
    if (actor === null) return;
    node.actor = null;
    node.backlog = [];
    node.paused = false;
    // kill -9: the lock file stays behind, its pid is gone.
    node.fs.livePids.delete(node.incarnation);
    node.store = null;
    actor.stop();
    node.services?.stop();
    node.services = null;
    recordCrash(node, this);
  }

  /** Operator hand-over (`hastate resign`): a primary tells its peers it is leaving and steps down. */
  resign(id: string): void {
    this.node(id).actor?.send({ type: 'RESIGN' });
  }

  /** `hastate farewell` for node `id` (see sim-farewell.ts); whether its datagrams were sent. */
  farewell(id: string): boolean {
    const node = this.node(id);
    const out = simFarewell({ fs: node.fs, wireId: node.wireId, auth: this.#auth, wallMs: SIM_WALL_EPOCH_MS + Math.floor(this.nowMs), startSequence: this.prng.nextUint32() });
    if (out === null) return false;
    this.faultLog.push(`${this.nowMs} ms: farewell for ${id} at epoch ${out.epoch}`);
    for (const d of out.data) this.#broadcast(node, d);
    return true;
  }

  /** The process stops running (SIGSTOP, GC pause, VM steal) and later runs its backlog. */
  pause(id: string, durationMs: number): void {
    const node = this.node(id);
    if (!node.alive || node.paused) return;
    node.paused = true;
    const incarnation = node.incarnation;
    this.at(this.nowMs + durationMs, `resume ${id}`, () => {
      if (node.incarnation !== incarnation || !node.alive) return;
      // Everything that came due meanwhile runs now, in event-loop order: timers, then I/O, then immediates.
      resumeOwner(this.scheduler, node);
    });
  }

  partition(sides: string[][]): void {
    this.faultLog.push(`${this.nowMs.toFixed(1)} ms: partition ${sides.map((s) => `[${s.join(' ')}]`).join(' | ')}`);
    this.topology.partition(sides);
  }

  blockOneWay(from: string, to: string): void {
    this.faultLog.push(`${this.nowMs.toFixed(1)} ms: block ${from} -> ${to}`);
    this.topology.blockOneWay(from, to);
  }

  heal(): void {
    this.faultLog.push(`${this.nowMs.toFixed(1)} ms: heal`);
    this.topology.heal();
  }

  /** Runs every event due up to `untilMs`, then sets the clock there. */
  run(untilMs: number): void {
    for (;;) {
      const entry = this.scheduler.pop(untilMs);
      if (entry === undefined) break;
      this.#runEntry(entry);
    }
    this.scheduler.nowMs = Math.max(this.scheduler.nowMs, untilMs);
  }

  /** Like run(), but lets promise-based service hooks settle after every event. */
  async runAsync(untilMs: number): Promise<void> {
    for (;;) {
      const entry = this.scheduler.pop(untilMs);
      if (entry === undefined) break;
      this.#runEntry(entry);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.scheduler.nowMs = Math.max(this.scheduler.nowMs, untilMs);
  }

  primaries(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive && n.role === 'primary');
  }

  roles(): Record<string, Role> {
    return Object.fromEntries([...this.nodes.values()].map((n) => [n.nodeId, n.alive ? n.role : 'unknown']));
  }

  /** The role machine context of a live node (peers, primaryId, ...). */
  context(id: string) {
    return this.node(id).actor?.getSnapshot().context ?? null;
  }

  stop(): void {
    for (const n of this.nodes.values()) {
      n.actor?.stop();
      n.services?.stop();
    }
  }

  #runEntry(entry: Entry): void {
    this.scheduler.nowMs = entry.atMs;
    const node = entry.owner === null ? null : (this.nodes.get(entry.owner) ?? null);
    runAsOwner(entry, node, node?.alive ?? false);
  }

  #onNode(node: SimNode, incarnation: number, atMs: number, phase: Phase, fn: () => void): Entry {
    return this.scheduler.push(atMs, phase, node.nodeId, () => {
      if (node.incarnation === incarnation && node.alive) fn();
    });
  }

  /** A primary's epoch goes on the wire only once durable (seen epochs of standbys may lag). */
  #checkSend(from: SimNode, event: SendEvent): void {
    if (event.type !== 'SEND') return;
    const durable = from.store?.epoch ?? 0;
    if (event.message.role === 'primary' && event.message.epoch > durable) {
      this.violations.push(`${this.nowMs} ms: ${from.nodeId} sent epoch ${event.message.epoch} as primary before it was durable (${durable})`);
    }
  }

  /**
   * The in-memory multicast group: every other node gets the same bytes, subject to the link
   * faults, and the sender gets its own back at once (multicast loopback, no PRNG draw).
   */
  #broadcast(from: SimNode, data: Uint8Array): void {
    this.onWire?.(from.nodeId, data);
    this.#onNode(from, from.incarnation, this.nowMs, Phase.Io, () => from.deliver?.(data, from.nodeId));
    for (const to of this.nodes.values()) {
      if (to === from || !this.topology.canDeliver(from.nodeId, to.nodeId)) continue;
      for (const delayMs of this.links.deliveries(from.nodeId, to.nodeId, this.faults, this.prng)) {
        this.#onNode(to, to.incarnation, this.nowMs + delayMs, Phase.Io, () => to.deliver?.(data, from.nodeId));
      }
      // Drawn only when tampering is on, so runs without it keep their random stream.
      if (this.prng.chance(this.faults.tamperRate)) {
        const forged = tamper(data, this.prng);
        const incarnation = to.incarnation;
        // On-path, the attacker's copy overtakes the honest one: the replay rule cannot drop it first.
        this.#onNode(to, incarnation, this.nowMs + this.faults.delayMs / 2, Phase.Io, () => {
          const accepted = to.transport!.stats.accepted;
          to.tamperedReceived++;
          to.deliver?.(forged, from.nodeId);
          if (to.transport!.stats.accepted !== accepted) to.tamperedAccepted++;
        });
      }
    }
  }
}
