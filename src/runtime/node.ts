/**
 * HaNode: one running node. It wires the backend's election machine (role.machine.ts over
 * multicast, lease.machine.ts over Redis or etcd) to the node's services, its durable epoch
 * and the log. Everything it decides comes from the machines; it never asks which backend it
 * runs (src/backends/backend.ts is the whole interface).
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import type { Role } from '../../machines/role.machine.ts';
import type { ServiceContext as SupervisorContext } from '../../machines/service.machine.ts';
import { serviceChildId } from '../../machines/services.machine.ts';
import type { HastateConfig } from '../config/index.ts';
import type { TransportStats } from '../transport/stats.ts';
import { createBackend, type Backend, type Election } from '../backends/index.ts';
import { createServicesActor, type ServicesActor } from '../services/supervisor.ts';
import type { ServiceDefinition } from '../services/types.ts';
import type { NodeStatus, PeerStatus, ServiceStatus } from './status.ts';
import { monotonicMs } from './clock.ts';
import { VERSION } from './version.ts';
import { EpochStore } from './epoch-store.ts';
import { nodeFs, type EpochFs } from './epoch-fs.ts';
import { EpochRecorder, type EpochStoreStats } from './epoch-recorder.ts';
import { resolveStateDir } from './state-dir.ts';
import { apiMisuse } from '../assert.ts';

export type { EpochStoreStats } from './epoch-recorder.ts';

/** How long a hand-over waits for the leaving datagrams to leave the socket. */
const FLUSH_DEADLINE_MS = 200;

export interface NodeOptions {
  config: HastateConfig;
  logger: Logger;
  /** Business services; each becomes a supervised child actor of the node's services actor. */
  services?: readonly ServiceDefinition[];
  /** XState inspection observer for the node's actors (e.g. the Stately inspector). */
  inspect?: (event: InspectionEvent) => void;
  /** File system of the epoch store; default the host's (tests inject failing ones). */
  epochFs?: EpochFs;
  /** How the node is elected; default the one `ha.backend` names (src/backends/index.ts). */
  backend?: Backend;
}

export interface RoleChange {
  from: Role;
  to: Role;
  epoch: number;
  primaryId: string | null;
  reason: string;
}

/** The actors of a started node. */
interface Running {
  election: Election;
  services: ServicesActor;
  recorder: EpochRecorder;
  unsubscribe: () => void;
}

const NOT_STARTED: EpochStoreStats = { path: '', durableEpoch: 0, writes: 0, failures: 0, lastError: null, lastWriteMs: null };

export class HaNode {
  readonly config: HastateConfig;
  readonly log: Logger;
  readonly #services: readonly ServiceDefinition[];
  readonly #inspect: ((event: InspectionEvent) => void) | undefined;
  readonly #pendingStops = new Set<Promise<void>>();
  readonly #backend: Backend;
  readonly #listeners = new Set<(change: RoleChange) => void>();
  readonly #epochFs: EpochFs;
  #running: Running | null = null;
  #started = false;
  #startedMs = 0;
  #lastRole: Role = 'unknown';
  #lastEpoch = 0;

  constructor(opts: NodeOptions) {
    this.config = opts.config;
    this.log = opts.logger.child({ nodeId: opts.config.ha.nodeId });
    this.#services = opts.services ?? [];
    this.#inspect = opts.inspect;
    this.#epochFs = opts.epochFs ?? nodeFs();
    const names = new Set<string>();
    for (const s of this.#services) {
      if (names.has(s.name)) throw apiMisuse(`two services are named ${JSON.stringify(s.name)}`, TypeError);
      names.add(s.name);
    }
    this.#backend = opts.backend ?? createBackend(opts.config, this.log, () => ({ role: this.#lastRole, epoch: this.#lastEpoch }));
  }

  /**
   * Starts the node; the role is decided asynchronously (watch `onRoleChange` or `status()`).
   * Throws an EpochStoreError (HASTATE_EPOCH_STORE_*) when the durable epoch cannot be read or
   * locked; nothing has started then.
   */
  start(): void {
    if (this.#started) throw apiMisuse('HaNode.start() called twice', Error);
    const ha = this.config.ha;
    const store = EpochStore.open({ fs: this.#epochFs, dir: resolveStateDir(ha.stateDir), nodeId: ha.nodeId });
    this.#started = true;
    const recorder = new EpochRecorder(store, this.log);
    this.#lastEpoch = store.epoch;
    this.log.info({ stateFile: store.path, epoch: store.epoch }, `durable epoch ${store.epoch} read from ${store.path}`);
    const inspect = this.#inspect ? { inspect: this.#inspect } : {};
    const services = createServicesActor({
      definitions: this.#services,
      runner: { nodeId: ha.nodeId, log: this.log, pendingStops: this.#pendingStops, leaseValid: this.#backend.actingAllowed },
      ...inspect,
    });
    const election = this.#backend.createElection({ persistEpoch: recorder.persistEpochActor(), epoch: store.epoch, ...inspect });
    // The services hear every transition the election emits, in order: the one way roles reach them.
    const offRoles = election.onRoleChanged((event) => services.send(event));
    const offSnapshots = election.onSnapshot(
      (view) => {
        recorder.recordSeen(view.knownEpoch, (reason) => this.#running?.election.fault(reason));
        this.#observe(view.role, view.epoch, view.primaryId, view.reason);
      },
      (error) => this.log.fatal({ err: error }, 'role machine failed'),
    );
    this.#running = { election, services, recorder, unsubscribe: () => (offRoles(), offSnapshots()) };
    this.#startedMs = monotonicMs();
    this.log.info({ priority: ha.priority, mode: ha.role, preempt: ha.preempt, ...this.#backend.describe(), version: VERSION }, 'node starting');
    services.start();
    election.start();
  }

  /** The durable epoch store's counters (metrics). Read-only by convention. */
  get epochStoreStats(): Readonly<EpochStoreStats> {
    return this.#running?.recorder.stats ?? NOT_STARTED;
  }

  /** Counters of the backend (datagrams or coordinator requests), for metrics. Read-only by convention. */
  get transportStats(): TransportStats {
    return this.#backend.stats;
  }

  /** The peers this node knows of now; dead ones have aged out (status, metrics and the live view read this). */
  peers(): PeerStatus[] {
    return this.#backend.peers(monotonicMs());
  }

  /** Role changes and new epochs, as the log line reports them. */
  onRoleChange(listener: (change: RoleChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Hands the primary role over at once: the standbys hear a leaving declaration and the best
   * of them takes over without waiting for the timeout. No-op unless this node is primary.
   */
  async resign(): Promise<{ resigned: boolean; role: Role; epoch: number }> {
    const election = this.#running?.election;
    if (election === undefined) return { resigned: false, role: 'unknown', epoch: this.#lastEpoch };
    const before = election.view();
    if (before.role !== 'primary') return { resigned: false, role: before.role, epoch: before.epoch };
    this.log.info('resigning: handing the primary role over');
    election.resign();
    await this.#backend.flush(FLUSH_DEADLINE_MS);
    const after = election.view();
    return { resigned: true, role: after.role, epoch: after.epoch };
  }

  /**
   * Stops the node: a primary first hands over (so the standby need not wait for the timeout)
   * and its services leave the primary role; then the machine and every service stop, and
   * service stop hooks get up to `deadlineMs`.
   */
  async stop(deadlineMs = 5_000): Promise<void> {
    const running = this.#running;
    if (running === null) return;
    if (running.election.view().role === 'primary') await this.resign();
    this.#running = null;
    running.unsubscribe();
    running.election.stop();
    running.services.stop();
    running.recorder.close();
    if (this.#pendingStops.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deadlineMs);
    });
    const result = await Promise.race([Promise.allSettled([...this.#pendingStops]).then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (result === 'timeout') this.log.warn({ deadlineMs, pending: this.#pendingStops.size }, 'service stop hooks did not finish before the deadline');
  }

  status(): NodeStatus {
    const running = this.#running;
    const view = running?.election.view();
    const stats = this.#backend.stats;
    const now = monotonicMs();
    const ha = this.config.ha;
    return {
      nodeId: ha.nodeId,
      role: view?.role ?? 'unknown',
      statePaths: view?.statePaths ?? ['unknown'],
      epoch: view?.epoch ?? this.#lastEpoch,
      priority: ha.priority,
      mode: ha.role,
      preempt: ha.preempt,
      primaryId: view?.primaryId ?? null,
      // Only meaningful while another node is (or was last seen as) primary.
      lastPrimaryHeartbeatAgeMs: stats.lastPrimaryHeartbeatMs === null || view?.role === 'primary' ? null : Math.round(now - stats.lastPrimaryHeartbeatMs),
      roleChanges: view?.roleChanges ?? 0,
      reason: view?.reason ?? 'stopped',
      droppedPackets: { total: stats.droppedTotal, byReason: { ...stats.dropped } },
      packets: { sent: stats.sent, received: stats.received, sendErrors: stats.sendErrors },
      backend: this.#backend.name,
      transport: this.#backend.transportStatus(),
      timing: this.#backend.timingStatus(),
      peers: this.#backend.peers(now),
      services: this.#services.map((s) => this.#serviceStatus(s, running?.services.getSnapshot().children[serviceChildId(s.name)])),
      uptimeMs: Math.round(now - this.#startedMs),
      pid: process.pid,
      version: VERSION,
    };
  }

  #serviceStatus(definition: ServiceDefinition, ref: AnyActorRef | undefined): ServiceStatus {
    const snap = ref?.getSnapshot() as { value: string; context: SupervisorContext } | undefined;
    let extra: Record<string, unknown> = {};
    try {
      extra = definition.status?.() ?? {};
    } catch (error) {
      extra = { statusError: (error as Error).message };
    }
    return {
      ...extra,
      name: definition.name,
      state: snap === undefined ? 'stopped' : snap.value === 'running' ? 'running' : 'backing-off',
      restarts: snap?.context.restarts ?? 0,
      failures: snap?.context.failures ?? 0,
      lastError: snap?.context.lastError ?? null,
    };
  }

  #observe(role: Role, epoch: number, primaryId: string | null, reason: string): void {
    if (role === this.#lastRole && epoch === this.#lastEpoch) return;
    const change: RoleChange = { from: this.#lastRole, to: role, epoch, primaryId, reason };
    this.#lastRole = role;
    this.#lastEpoch = epoch;
    // One line per role change with the epoch, as operators grep for it.
    const text = change.from === change.to ? `epoch ${epoch} as ${role}` : `role ${change.from} -> ${role}`;
    this.log.info({ event: 'role-change', from: change.from, to: role, epoch, primaryId, reason }, `${text} (epoch ${epoch}): ${reason}`);
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.log.error({ err: error }, 'role change listener threw');
      }
    }
  }
}
