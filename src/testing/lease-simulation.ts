/**
 * A deterministic simulated cluster on a lease backend: N nodes running the real lease machine
 * on one simulated clock, each with its own clock rate, against a model coordinator with the
 * Redis backend's semantics (grant if free or expired, compare-and-set renew and release, a
 * token counter, a release announcement). Requests and replies take random latencies and may
 * be lost; nodes crash, restart and pause; the coordinator goes away and comes back.
 *
 * Each node computes what its services' `isPrimary()` would answer exactly as the real
 * backends do: primary, and the local clock before (last successful request's send time +
 * renew deadline). `acting()` lists the nodes for which that holds right now.
 */
import { createActor, fromCallback, type Actor } from 'xstate';
import { leaseMachine, type CoordinatorCommand, type LeaseEvent, type LeaseTiming } from '../../machines/lease.machine.ts';
import { roleOfSnapshot, type Role } from '../../machines/role.machine.ts';
import { LeaseValidity } from '../backends/lease-keeping.ts';
import { Prng } from './prng.ts';
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
  /** What isPrimary() would answer, on the node's local clock: the backends' own rule. */
  validity: LeaseValidity;
  /** The node's disk (outlives crashes) and the real epoch store on it. */
  fs: MemoryFs;
  durableAtStart: number;
}

export interface LeaseSimOptions {
  seed: number;
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
  coordinatorUp = true;
  loss: number;
  /** Nodes cut off from the coordinator (a partition between them): everything to and from them is lost. */
  readonly isolated = new Set<string>();
  #holder: { nodeId: string; token: number; expiresAtMs: number } | null = null;
  #counter = 0;

  constructor(readonly opts: LeaseSimOptions) {
    this.prng = new Prng(opts.seed);
    this.loss = opts.loss;
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
    this.nodes.set(nodeId, { nodeId, clockRate, actor: null, incarnation: 0, paused: false, backlog: [], role: 'unknown', epoch: 0, validity: this.#validity(), fs, durableAtStart: 0 });
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
    Object.assign(node, { paused: false, backlog: [], role: 'unknown', epoch: store.epoch, validity: this.#validity(), durableAtStart: store.epoch });
    const clock = {
      setTimeout: (fn: () => void, ms: number) => this.#onNode(node, incarnation, this.nowMs + ms / node.clockRate, Phase.Timer, fn),
      clearTimeout: (entry: unknown) => {
        (entry as Entry).cancelled = true;
      },
    };
    const machine = leaseMachine.provide({
      actors: {
        coordinator: fromCallback<CoordinatorCommand, { nodeId: string }>(({ sendBack, receive }) => {
          const deliver = (e: LeaseEvent) => {
            node.validity.note(e, this.localMs(node));
            sendBack(e);
          };
          this.#onNode(node, incarnation, this.nowMs, Phase.Io, () => deliver({ type: 'COORDINATOR.UP' }));
          receive((command) => {
            if (command.type === 'RELEASE') node.validity.end();
            this.#request(node, incarnation, command, deliver);
          });
        }),
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
    Object.assign(node, { actor: null, backlog: [], paused: false, role: 'unknown', validity: this.#validity() });
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

  /** The coordinator restarts without persistence: the lease and the token counter are gone. */
  loseCounter(): void {
    this.#holder = null;
    this.#counter = 0;
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
    for (;;) {
      const entry = this.scheduler.pop(untilMs);
      if (entry === undefined) break;
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

  /** A request travels to the coordinator, is applied there atomically, and the reply travels back. */
  #request(node: LeaseSimNode, incarnation: number, command: CoordinatorCommand, deliver: (e: LeaseEvent) => void): void {
    const sentLocalMs = this.localMs(node);
    if (this.isolated.has(node.nodeId) || this.prng.chance(this.loss)) return;
    this.scheduler.push(this.nowMs + this.#latency(), Phase.Io, null, () => {
      if (!this.coordinatorUp) return;
      if (this.isolated.has(node.nodeId)) return;
      const replies = this.#apply(node.nodeId, command);
      if (this.isolated.has(node.nodeId) || this.prng.chance(this.loss)) return;
      this.#onNode(node, incarnation, this.nowMs + this.#latency(), Phase.Io, () => {
        const rttMs = this.localMs(node) - sentLocalMs;
        for (const r of replies) deliver(r.type === 'LEASE.ACQUIRED' || r.type === 'LEASE.RENEWED' ? { ...r, rttMs } : r);
      });
    });
  }

  #apply(nodeId: string, command: CoordinatorCommand): LeaseEvent[] {
    const now = this.nowMs;
    const h = this.#holder !== null && this.#holder.expiresAtMs > now ? this.#holder : null;
    const ttl = this.opts.timing.ttlMs;
    if (command.type === 'CAMPAIGN') {
      if (h !== null) return [{ type: 'LEADER.OBSERVED', leaderId: h.nodeId, token: h.token }];
      this.#counter = Math.max(this.#counter + 1, command.minToken + 1);
      this.#holder = { nodeId, token: this.#counter, expiresAtMs: now + ttl };
      this.grants.push({ atMs: now, nodeId, token: this.#counter });
      this.#announce({ type: 'LEADER.OBSERVED', leaderId: nodeId, token: this.#counter }, nodeId);
      return [{ type: 'LEASE.ACQUIRED', token: this.#counter, rttMs: 0 }];
    }
    if (command.type === 'RENEW') {
      if (h !== null && h.nodeId === nodeId && h.token === command.token) {
        h.expiresAtMs = now + ttl;
        return [{ type: 'LEASE.RENEWED', token: command.token, rttMs: 0 }];
      }
      const lost: LeaseEvent = { type: 'LEASE.LOST', token: command.token, reason: h === null ? 'the lease expired' : `held by ${h.nodeId}` };
      return h === null ? [lost] : [lost, { type: 'LEADER.OBSERVED', leaderId: h.nodeId, token: h.token }];
    }
    if (h !== null && h.nodeId === nodeId && h.token === command.token) {
      this.#holder = null;
      this.#announce({ type: 'LEADER.OBSERVED', leaderId: null, token: command.token }, nodeId);
    }
    return [];
  }

  /** Pub/sub: every other live node hears it after a latency, unless lost. */
  #announce(event: LeaseEvent, except: string): void {
    for (const n of this.nodes.values()) {
      if (n.nodeId === except || n.actor === null || this.isolated.has(n.nodeId) || this.prng.chance(this.loss)) continue;
      const incarnation = n.incarnation;
      this.#onNode(n, incarnation, this.nowMs + this.#latency(), Phase.Io, () => n.actor?.send(event));
    }
  }
}
