/**
 * A deterministic simulated cluster on a lease backend: N nodes running the real lease machine
 * and the real coordinator core of the chosen backend (src/backends/redis-core.ts or
 * etcd-core.ts: the requests they make, how they read the replies, when they report the
 * coordinator up or down, the lease validity) on one simulated clock, each node with its own
 * clock rate. Only the server (an in-memory model of Redis's scripts or of etcd's keys, leases
 * and revisions), the network and the clock are swapped. Requests and replies take random
 * latencies and may be lost (the request then times out, as the real client's would); nodes
 * crash, restart and pause; the server stops answering and comes back.
 *
 * Each node's `isPrimary()` answer is the core's own `LeaseValidity`: primary, and the local
 * clock before (last successful request's send time + renew deadline). `acting()` lists the
 * nodes for which that holds right now.
 */
import { internalBug } from '../assert.ts';
import { createActor, type Actor } from 'xstate';
import { leaseMachine, type LeaseTiming } from '../../machines/lease.machine.ts';
import { roleOfSnapshot, type Role } from '../../machines/role.machine.ts';
import type { Outcome } from '../backends/lease-core.ts';
import { LeaseValidity, requestTimeoutMs } from '../backends/lease-keeping.ts';
import { Prng } from './prng.ts';
import { simCoordinator, type SimNet } from './sim-coordinator.ts';
import { SimEtcdError, SimEtcdServer } from './sim-etcd-server.ts';
import { SimRedisServer, type SimServerHooks } from './sim-redis-server.ts';
import { Phase, resumeOwner, runAsOwner, Scheduler, type Entry } from './scheduler.ts';
import { MemoryFs } from './memory-fs.ts';
import { openSimEpochStore, SIM_STATE_DIR, simPersistEpoch } from './sim-epoch.ts';

export interface LeaseSimNode {
  nodeId: string;
  /** Local clock speed relative to simulated time: 1.01 runs 1% fast. */
  clockRate: number;
  actor: Actor<typeof leaseMachine> | null;
  incarnation: number;
  paused: boolean;
  backlog: Entry[];
  role: Role;
  epoch: number;
  /** What isPrimary() would answer, on the node's local clock: the core's own bookkeeping. */
  validity: LeaseValidity;
  /** Pushed text (published messages, watch lines) goes to these, per process. */
  listeners: ((text: string) => void)[];
  /** The node's disk (outlives crashes) and the real epoch store on it. */
  fs: MemoryFs;
  durableAtStart: number;
}

export type LeaseBackend = 'redis' | 'etcd';

export interface LeaseSimOptions {
  seed: number;
  /** Whose core and server model run; default redis. */
  backend?: LeaseBackend;
  timing: LeaseTiming;
  /** One-way latency between a node and the coordinator is uniform in [0, maxLatencyMs]. */
  maxLatencyMs: number;
  /** Probability that one request or reply is lost. */
  loss: number;
}

export interface LeaseGrant {
  atMs: number;
  nodeId: string;
  token: number;
}

export class LeaseSimulation {
  readonly scheduler = new Scheduler();
  readonly prng: Prng;
  readonly nodes = new Map<string, LeaseSimNode>();
  readonly grants: LeaseGrant[] = [];
  readonly faultLog: string[] = [];
  readonly violations: string[] = [];
  loss: number;
  /** Nodes cut off from the coordinator (a partition between them): everything to and from them is lost. */
  readonly isolated = new Set<string>();
  readonly backend: LeaseBackend;
  readonly #server: SimRedisServer | SimEtcdServer;
  #serverUp = true;

  constructor(readonly opts: LeaseSimOptions) {
    this.prng = new Prng(opts.seed);
    this.loss = opts.loss;
    this.backend = opts.backend ?? 'redis';
    const hooks: SimServerHooks = {
      push: (text) => this.#push(text),
      granted: (nodeId, token) => this.grants.push({ atMs: this.nowMs, nodeId, token }),
    };
    this.#server =
      this.backend === 'redis'
        ? new SimRedisServer(hooks)
        : new SimEtcdServer(hooks, `${PREFIX}/`, (atMs, fn) => void this.scheduler.push(atMs, Phase.Timer, null, () => fn(this.nowMs)), () => this.#serverUp);
  }

  /** Whether the server answers. */
  get coordinatorUp(): boolean {
    return this.#serverUp;
  }

  /** The server stops answering (stopped or paused): requests and connection attempts get no answer. */
  coordinatorDown(): void {
    this.#serverUp = false;
  }

  /**
   * The server answers again: resumed from a pause (`restarted` false), or restarted with its
   * data (`restarted` true). The difference is etcd's: a restarted etcd gives every lease a
   * fresh TTL, a resumed one revokes those that expired meanwhile.
   */
  coordinatorBack(restarted: boolean): void {
    if (this.#serverUp) return;
    this.#serverUp = true;
    this.#server.resume(this.nowMs, restarted);
  }

  get nowMs(): number {
    return this.scheduler.nowMs;
  }

  localMs(node: LeaseSimNode): number {
    return this.nowMs * node.clockRate;
  }

  addNode(nodeId: string, clockRate = 1, startAtMs = 0): void {
    const fs = new MemoryFs();
    fs.mkdirp(SIM_STATE_DIR);
    this.nodes.set(nodeId, { nodeId, clockRate, actor: null, incarnation: 0, paused: false, backlog: [], role: 'unknown', epoch: 0, validity: this.#validity(), listeners: [], fs, durableAtStart: 0 });
    this.at(startAtMs, `start ${nodeId}`, () => this.start(nodeId));
  }

  at(atMs: number, description: string, fn: () => void): void {
    this.scheduler.push(atMs, Phase.Timer, null, () => {
      this.faultLog.push(`${this.nowMs.toFixed(1)} ms: ${description}`);
      fn();
    });
  }

  start(id: string): void {
    const node = this.nodes.get(id)!;
    if (node.actor !== null) return;
    node.incarnation++;
    const incarnation = node.incarnation;
    // A fresh process (pid = incarnation) whose epoch comes back from its disk only.
    node.fs.livePids.add(incarnation);
    const store = openSimEpochStore(node.fs, id, incarnation);
    Object.assign(node, { paused: false, backlog: [], role: 'unknown', epoch: store.epoch, validity: this.#validity(), listeners: [], durableAtStart: store.epoch });
    const clock = {
      setTimeout: (fn: () => void, ms: number) => this.#onNode(node, incarnation, this.nowMs + ms / node.clockRate, Phase.Timer, fn),
      clearTimeout: (entry: unknown) => {
        (entry as Entry).cancelled = true;
      },
    };
    const coordinator = simCoordinator(
      { backend: this.backend, nodeId: id, incarnation: `${id}#${incarnation}`, timing: this.opts.timing, prefix: PREFIX, validity: node.validity, report: () => ({ role: node.role, epoch: node.epoch }) },
      this.#net(node, incarnation),
    );
    const machine = leaseMachine.provide({
      actors: {
        coordinator,
        persistEpoch: simPersistEpoch(store, (fn) => this.#onNode(node, incarnation, this.nowMs, Phase.Immediate, fn)),
      },
    });
    const actor = createActor(machine, { clock, input: { nodeId: id, timing: this.opts.timing, epoch: store.epoch } });
    node.actor = actor;
    actor.subscribe((s) => {
      const role = roleOfSnapshot(s);
      if (role === 'primary' && (node.role !== 'primary' || s.context.epoch !== node.epoch)) {
        if (s.context.epoch <= node.durableAtStart) this.violations.push(`${this.nowMs} ms: ${id} leads at epoch ${s.context.epoch}, at or below ${node.durableAtStart} made durable by an earlier process`);
        if (s.context.epoch > store.epoch) this.violations.push(`${this.nowMs} ms: ${id} leads at epoch ${s.context.epoch} before it is durable (${store.epoch})`);
      }
      void store.record(s.context.epoch);
      if (s.context.epoch < node.epoch) this.violations.push(`${this.nowMs} ms: ${id} epoch decreased ${node.epoch} -> ${s.context.epoch}`);
      node.role = role;
      node.epoch = s.context.epoch;
    });
    actor.start();
  }

  crash(id: string): void {
    const node = this.nodes.get(id)!;
    // kill -9: its lock file stays, its pid is gone.
    node.fs.livePids.delete(node.incarnation);
    node.actor?.stop();
    Object.assign(node, { actor: null, backlog: [], paused: false, role: 'unknown', validity: this.#validity(), listeners: [] });
  }

  pause(id: string, durationMs: number): void {
    const node = this.nodes.get(id)!;
    if (node.actor === null || node.paused) return;
    node.paused = true;
    const incarnation = node.incarnation;
    this.at(this.nowMs + durationMs, `resume ${id}`, () => {
      if (node.incarnation !== incarnation || node.actor === null) return;
      resumeOwner(this.scheduler, node);
    });
  }

  /** The server restarts without persistence (Redis) or with a new data directory (etcd): every key is gone, the token counter too. */
  loseCounter(): void {
    this.#server.lose();
  }

  resign(id: string): void {
    this.nodes.get(id)!.actor?.send({ type: 'RESIGN' });
  }

  /** Nodes whose services would act now: primary with a lease valid on their own clock. */
  acting(): LeaseSimNode[] {
    return [...this.nodes.values()].filter((n) => n.actor !== null && !n.paused && n.role === 'primary' && this.localMs(n) < n.validity.untilMs());
  }

  /** Runs every event due up to `untilMs`, calling `check` after each one. */
  run(untilMs: number, check: () => void = () => {}): void {
    let instantMs = -1;
    let atInstant = 0;
    for (;;) {
      const entry = this.scheduler.pop(untilMs);
      if (entry === undefined) break;
      // With zero latency a request loop (A's write wakes B, whose write wakes A...) takes no
      // simulated time: fail, naming it, instead of running forever.
      atInstant = entry.atMs === instantMs ? atInstant + 1 : 0;
      instantMs = entry.atMs;
      if (atInstant > MAX_EVENTS_PER_INSTANT) throw internalBug(`livelock: more than ${MAX_EVENTS_PER_INSTANT} events at ${instantMs} ms without time passing; faults so far:\n  ${this.faultLog.join('\n  ')}`);
      this.scheduler.nowMs = entry.atMs;
      const node = entry.owner === null ? null : (this.nodes.get(entry.owner) ?? null);
      if (runAsOwner(entry, node, node?.actor != null)) check();
    }
    this.scheduler.nowMs = Math.max(this.scheduler.nowMs, untilMs);
  }

  stop(): void {
    for (const n of this.nodes.values()) n.actor?.stop();
  }

  #validity(): LeaseValidity {
    return new LeaseValidity(this.opts.timing.renewDeadlineMs);
  }

  #latency(): number {
    return this.prng.next() * this.opts.maxLatencyMs;
  }

  #onNode(node: LeaseSimNode, incarnation: number, atMs: number, phase: Phase, fn: () => void): Entry {
    return this.scheduler.push(atMs, phase, node.nodeId, () => {
      if (node.incarnation === incarnation && node.actor !== null) fn();
    });
  }

  #lost(node: LeaseSimNode): boolean {
    return this.isolated.has(node.nodeId) || this.prng.chance(this.loss);
  }

  /** The network and clock as one node process sees them. */
  #net(node: LeaseSimNode, incarnation: number): SimNet {
    const timeoutMs = requestTimeoutMs(this.opts.timing);
    const listeners = node.listeners;
    return {
      localMs: () => this.localMs(node),
      timer: (delayMs, fn) => this.#onNode(node, incarnation, this.nowMs + delayMs / node.clockRate, Phase.Timer, fn),
      reachable: () => this.#serverUp && !this.isolated.has(node.nodeId),
      listen: (fn) => void listeners.push(fn),
      request: (call, answer) => {
        // Exactly one answer: the reply or error, or the client's timeout on the node's clock.
        let answered = false;
        const once = (outcome: Outcome) => {
          if (answered) return;
          answered = true;
          answer(outcome);
        };
        const timeout = this.#onNode(node, incarnation, this.nowMs + timeoutMs / node.clockRate, Phase.Timer, () => once({ ok: false, error: `timed out after ${timeoutMs} ms` }));
        if (this.#lost(node)) return;
        this.scheduler.push(this.nowMs + this.#latency(), Phase.Io, null, () => {
          // A paused server reads nothing; the request times out.
          if (!this.#serverUp || this.isolated.has(node.nodeId)) return;
          const outcome = this.#handle(call);
          if (this.#lost(node)) return;
          this.#onNode(node, incarnation, this.nowMs + this.#latency(), Phase.Io, () => {
            timeout.cancelled = true;
            once(outcome);
          });
        });
      },
    };
  }

  /** The server applies one call atomically; an error reply (etcd's 4xx) is a failed request. */
  #handle(call: unknown): Outcome {
    try {
      const server = this.#server;
      const value = server instanceof SimRedisServer ? server.handle(call as Parameters<SimRedisServer['handle']>[0], this.nowMs) : server.handle(call as Parameters<SimEtcdServer['handle']>[0], this.nowMs);
      return { ok: true, value };
    } catch (error) {
      if (error instanceof SimEtcdError) return { ok: false, error: error.message };
      throw error;
    }
  }

  /** Published messages and watch lines: every other live, reachable process hears them after a latency, unless lost. */
  #push(text: string): void {
    for (const n of this.nodes.values()) {
      if (n.actor === null || n.listeners.length === 0 || this.#lost(n)) continue;
      const listeners = [...n.listeners];
      this.#onNode(n, n.incarnation, this.nowMs + this.#latency(), Phase.Io, () => listeners.forEach((fn) => fn(text)));
    }
  }
}

/** A bound on events at one simulated instant; a healthy run has a few dozen at most. */
const MAX_EVENTS_PER_INSTANT = 100_000;

/** Every simulated cluster's Redis key prefix or etcd election prefix. */
const PREFIX = 'sim';
