/**
 * HaNode: one running node. It wires the pure role machine to the real world: the multicast
 * transport, the host clock, the supervised service actors, and the log. Everything it
 * decides comes from the machine; this file only does I/O and bookkeeping.
 */
import { createActor, fromCallback, type Actor, type AnyActorRef, type AnyStateMachine, type EventObject, type InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { roleMachine, roleOfSnapshot, type Role, type SendEvent } from '../../machines/role.machine.ts';
import { serviceMachine, type ServiceContext as SupervisorContext } from '../../machines/service.machine.ts';
import type { HastateConfig } from '../config/index.ts';
import { leaseMachine } from '../../machines/lease.machine.ts';
import { createMulticastTransport } from '../transport/multicast.ts';
import { TransportStats } from '../transport/stats.ts';
import type { Coordinator } from '../backends/coordinator.ts';
import { createCoordinator } from '../backends/index.ts';
import { createServiceRunner } from '../services/runner.ts';
import type { ServiceDefinition } from '../services/types.ts';
import type { NodeStatus, ServiceStatus } from './status.ts';
import { hostClock, monotonicMs } from './clock.ts';
import { VERSION } from './version.ts';
import { EpochStore } from './epoch-store.ts';
import { nodeFs, type EpochFs } from './epoch-fs.ts';
import { resolveStateDir } from './state-dir.ts';
import { apiMisuse } from '../assert.ts';

/** How long a hand-over waits for the leaving datagrams to leave the socket. */
const FLUSH_DEADLINE_MS = 200;

export interface NodeOptions {
  config: HastateConfig;
  logger: Logger;
  /** Business services; each becomes a supervised child actor of the node. */
  services?: readonly ServiceDefinition[];
  /** XState inspection observer for the whole actor system (e.g. the Stately inspector). */
  inspect?: (event: InspectionEvent) => void;
  /** File system of the epoch store; default the host's (tests inject failing ones). */
  epochFs?: EpochFs;
}

/** What the durable epoch store did, for status and metrics. */
export interface EpochStoreStats {
  path: string;
  /** Highest epoch on disk. */
  durableEpoch: number;
  writes: number;
  failures: number;
  lastError: string | null;
  /** Duration of the last write (temporary file, fsync, rename, fsync of the directory). */
  lastWriteMs: number | null;
}

/** The context fields both role machines share. */
interface CommonContext {
  epoch: number;
  primaryId: string | null;
  reason: string;
  roleChanges: number;
}

export interface RoleChange {
  from: Role;
  to: Role;
  epoch: number;
  primaryId: string | null;
  reason: string;
}

/** `{ standby: { watch: 'watching', beat: 'beating' } }` -> `['standby.watch.watching', 'standby.beat.beating']` */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leafPaths(v, `${prefix}${k}.`));
}

export class HaNode {
  readonly config: HastateConfig;
  readonly log: Logger;
  readonly #services: readonly ServiceDefinition[];
  readonly #inspect: ((event: InspectionEvent) => void) | undefined;
  readonly #pendingStops = new Set<Promise<void>>();
  /** multicast backend only. */
  readonly #transport: ReturnType<typeof createMulticastTransport> | null = null;
  /** redis and etcd backends only. */
  readonly #coordinator: Coordinator | null = null;
  readonly #idleStats = new TransportStats();
  readonly #listeners = new Set<(change: RoleChange) => void>();
  /** The role machine (multicast, single) or the lease machine (redis, etcd); same roles, same context fields. */
  #actor: Actor<AnyStateMachine> | null = null;
  #startedMs = 0;
  #lastRole: Role = 'unknown';
  #lastEpoch = 0;
  readonly #epochFs: EpochFs;
  #store: EpochStore | null = null;
  /** Highest epoch handed to the store for a background (seen-epoch) write. */
  #seenRequested = 0;
  readonly #storeStats: EpochStoreStats = { path: '', durableEpoch: 0, writes: 0, failures: 0, lastError: null, lastWriteMs: null };

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
    const ha = opts.config.ha;
    if (!ha.enabled || ha.backend === 'single') return;
    if (ha.backend === 'redis' || ha.backend === 'etcd') {
      this.#coordinator = createCoordinator(opts.config, this.log, () => ({ role: this.#lastRole, epoch: this.#lastEpoch }));
      return;
    }
    this.#transport = createMulticastTransport({
      group: ha.multicastGroup,
      port: ha.heartbeat.port,
      interfaceAddress: ha.interface,
      nodeId: ha.nodeId,
      log: this.log,
      auth: { mode: ha.auth.mode, keyring: ha.auth.keys, keyId: ha.auth.keyId, freshnessWindowMs: ha.auth.freshnessWindowMs },
    });
  }

  /**
   * Starts the node; the role is decided asynchronously (watch `onRoleChange` or `status()`).
   * Throws an EpochStoreError (HASTATE_EPOCH_STORE_*) when the durable epoch cannot be read or
   * locked; nothing has started then.
   */
  start(): void {
    if (this.#actor !== null || this.#store !== null) throw apiMisuse('HaNode.start() called twice', Error);
    const ha = this.config.ha;
    const store = EpochStore.open({ fs: this.#epochFs, dir: resolveStateDir(ha.stateDir), nodeId: ha.nodeId });
    this.#store = store;
    this.#storeStats.path = store.path;
    this.#storeStats.durableEpoch = store.epoch;
    this.#lastEpoch = store.epoch;
    this.#seenRequested = store.epoch;
    this.log.info({ stateFile: store.path, epoch: store.epoch }, `durable epoch ${store.epoch} read from ${store.path}`);
    const persistEpoch = this.#persistEpochActor(store);
    const coordinator = this.#coordinator;
    const service = serviceMachine.provide({
      actors: {
        runService: createServiceRunner({
          nodeId: ha.nodeId,
          log: this.log,
          pendingStops: this.#pendingStops,
          ...(coordinator !== null ? { leaseValid: () => monotonicMs() < coordinator.leaseValidUntilMs() } : {}),
        }),
      },
    });
    const services = this.#services.map((definition) => ({ name: definition.name, definition }));
    let actor: Actor<AnyStateMachine>;
    const options = { clock: hostClock, ...(this.#inspect ? { inspect: this.#inspect } : {}) };
    if (this.#coordinator !== null) {
      if (ha.priority !== 0 || ha.preempt) {
        this.log.warn({ priority: ha.priority, preempt: ha.preempt }, `ha.priority and ha.preempt have no effect with ha.backend ${ha.backend}: the lease goes to whichever node campaigns first`);
      }
      const machine = leaseMachine.provide({ actors: { coordinator: this.#coordinator.coordinator as never, service, persistEpoch } });
      actor = createActor(machine, {
        ...options,
        input: { nodeId: ha.nodeId, timing: ha.lease, mode: ha.role === 'standby' ? 'standby' : 'auto', services, epoch: store.epoch },
      }) as unknown as Actor<AnyStateMachine>;
    } else {
      // ha.enabled: false is the seed's "no HA" setting, and ha.backend single its successor:
      // act as primary, coordinate with nobody.
      const standalone = fromCallback<SendEvent, { nodeId: string }>(({ sendBack }) => {
        sendBack({ type: 'TRANSPORT.UP' });
      });
      if (!ha.enabled) this.log.warn('ha.enabled is false: this node acts as primary without coordinating with any other node');
      else if (this.#transport === null) this.log.info('ha.backend is single: this node is always primary');
      const machine = roleMachine.provide({
        actors: {
          transport: this.#transport?.transport ?? standalone,
          confirmSilence: this.#transport?.confirmSilence ?? fromCallback(({ sendBack }) => sendBack({ type: 'SILENCE.CONFIRMED' })),
          service,
          persistEpoch,
        },
      });
      actor = createActor(machine, {
        ...options,
        input: {
          nodeId: ha.nodeId,
          priority: ha.priority,
          mode: this.#transport !== null ? ha.role : 'primary',
          preempt: ha.preempt,
          timing: { electionWindowMs: ha.electionWindowMs, heartbeatIntervalMs: ha.heartbeat.intervalMs, heartbeatTimeoutMs: ha.heartbeat.timeoutMs },
          services,
          epoch: store.epoch,
        },
      }) as unknown as Actor<AnyStateMachine>;
    }
    this.#actor = actor;
    this.#startedMs = monotonicMs();
    actor.subscribe({
      next: (snapshot) => {
        const ctx = snapshot.context as CommonContext & { role: Role; maxSeenEpoch?: number };
        this.#recordSeen(Math.max(ctx.epoch, ctx.maxSeenEpoch ?? 0));
        this.#observe(roleOfSnapshot(snapshot), ctx.epoch, ctx.primaryId, ctx.reason);
      },
      error: (error) => this.log.fatal({ err: error }, 'role machine failed'),
    });
    const where =
      this.#coordinator !== null
        ? { backend: ha.backend, ...this.#coordinator.describe(), lease: ha.lease }
        : { backend: this.#transport === null ? 'single' : 'multicast', group: ha.multicastGroup, port: ha.heartbeat.port, auth: ha.auth.mode, authKeyIds: ha.auth.keys?.ids ?? [] };
    this.log.info({ priority: ha.priority, mode: ha.role, preempt: ha.preempt, ...where, version: VERSION }, 'node starting');
    actor.start();
  }

  /**
   * The machines' `persistEpoch`: they wait for its EPOCH.PERSISTED before a new epoch goes on
   * the wire or to services, so the ordering lives in the statecharts, not here. A failed write
   * becomes FAULT: role unknown, notify.fault, /healthz 503, hastate_epoch_store_failures_total.
   */
  #persistEpochActor(store: EpochStore) {
    return fromCallback<EventObject, { epoch: number }>(({ sendBack, input }) => {
      let stopped = false;
      void this.#record(store, input.epoch).then((reason) => {
        if (stopped) return;
        if (reason !== null) return sendBack({ type: 'FAULT', reason });
        this.log.debug({ epoch: input.epoch, persistMs: this.#storeStats.lastWriteMs }, `epoch ${input.epoch} made durable`);
        sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch });
      });
      return () => {
        stopped = true;
      };
    });
  }

  /**
   * Epochs seen from others are made durable in the background: a later takeover persists a
   * higher one before using it anyway, so nothing waits on this; but a failure is a fault all
   * the same, since the file no longer keeps up with what this node knows.
   */
  #recordSeen(epoch: number): void {
    const store = this.#store;
    if (store === null || epoch <= this.#seenRequested) return;
    this.#seenRequested = epoch;
    void this.#record(store, epoch).then((reason) => {
      if (reason !== null) this.#actor?.send({ type: 'FAULT', reason });
    });
  }

  /**
   * One durable write, timed and counted: resolves with null once `epoch` is on disk, or with
   * the fault reason after the failure was counted and logged. Never rejects.
   */
  #record(store: EpochStore, epoch: number): Promise<string | null> {
    const startedMs = monotonicMs();
    return Promise.resolve()
      .then(() => store.record(epoch))
      .then(
        () => {
          this.#noteWrite(startedMs);
          return null;
        },
        (error: unknown) => this.#noteStoreFailure(error, epoch),
      );
  }

  #noteWrite(startedMs: number): void {
    this.#storeStats.writes++;
    this.#storeStats.lastWriteMs = monotonicMs() - startedMs;
    this.#storeStats.durableEpoch = this.#store?.epoch ?? this.#storeStats.durableEpoch;
  }

  #noteStoreFailure(error: unknown, epoch: number): string {
    const message = error instanceof Error ? error.message : String(error);
    this.#storeStats.failures++;
    this.#storeStats.lastError = message;
    this.log.error({ err: error, epoch }, `epoch ${epoch} could not be made durable; not taking part: ${message}`);
    return `epoch store: ${message}`;
  }

  /** The durable epoch store's counters (metrics). Read-only by convention. */
  get epochStoreStats(): Readonly<EpochStoreStats> {
    return this.#storeStats;
  }

  /** Flushes whatever carries our last words (a leaving declaration, a lease release). */
  #flush(timeoutMs: number): Promise<void> {
    if (this.#transport !== null) return this.#transport.flush(timeoutMs);
    if (this.#coordinator !== null) return this.#coordinator.flush(timeoutMs);
    return Promise.resolve();
  }

  /** Counters and the peer table of the transport, for metrics. Read-only by convention. */
  get transportStats(): TransportStats {
    return this.#transport?.stats ?? this.#coordinator?.stats ?? this.#idleStats;
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
    const actor = this.#actor;
    if (actor === null) return { resigned: false, role: 'unknown', epoch: this.#lastEpoch };
    const before = roleOfSnapshot(actor.getSnapshot());
    if (before !== 'primary') return { resigned: false, role: before, epoch: actor.getSnapshot().context.epoch };
    this.log.info('resigning: handing the primary role over');
    actor.send({ type: 'RESIGN' });
    await this.#flush(FLUSH_DEADLINE_MS);
    const after = actor.getSnapshot();
    return { resigned: true, role: roleOfSnapshot(after), epoch: after.context.epoch };
  }

  /**
   * Stops the node: a primary first hands over (so the standby need not wait for the timeout)
   * and its services leave the primary role; then the machine and every service stop, and
   * service stop hooks get up to `deadlineMs`.
   */
  async stop(deadlineMs = 5_000): Promise<void> {
    const actor = this.#actor;
    if (actor === null) return;
    if (roleOfSnapshot(actor.getSnapshot()) === 'primary') await this.resign();
    this.#actor = null;
    actor.stop();
    this.#store?.close();
    this.#store = null;
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
    const snapshot = this.#actor?.getSnapshot();
    const ctx = snapshot?.context as CommonContext | undefined;
    const stats = this.transportStats;
    const now = monotonicMs();
    const ha = this.config.ha;
    return {
      nodeId: ha.nodeId,
      role: snapshot ? roleOfSnapshot(snapshot) : 'unknown',
      statePaths: snapshot ? leafPaths(snapshot.value) : ['unknown'],
      epoch: ctx?.epoch ?? this.#lastEpoch,
      priority: ha.priority,
      mode: ha.role,
      preempt: ha.preempt,
      primaryId: ctx?.primaryId ?? null,
      // Only meaningful while another node is (or was last seen as) primary.
      lastPrimaryHeartbeatAgeMs:
        stats.lastPrimaryHeartbeatMs === null || (snapshot !== undefined && roleOfSnapshot(snapshot) === 'primary')
          ? null
          : Math.round(now - stats.lastPrimaryHeartbeatMs),
      roleChanges: ctx?.roleChanges ?? 0,
      reason: ctx?.reason ?? 'stopped',
      droppedPackets: { total: stats.droppedTotal, byReason: { ...stats.dropped } },
      packets: { sent: stats.sent, received: stats.received, sendErrors: stats.sendErrors },
      backend: ha.enabled ? ha.backend : 'single',
      transport:
        this.#coordinator !== null
          ? { up: stats.up, lastError: stats.lastError, group: '', port: 0, interface: '', coordinator: this.#coordinator.describe() }
          : { up: this.#transport === null ? true : stats.up, lastError: stats.lastError, group: ha.multicastGroup, port: ha.heartbeat.port, interface: ha.interface },
      timing: {
        electionWindowMs: ha.electionWindowMs,
        heartbeatIntervalMs: ha.heartbeat.intervalMs,
        heartbeatTimeoutMs: ha.heartbeat.timeoutMs,
        ...(this.#coordinator !== null ? { lease: { ...ha.lease } } : {}),
      },
      peers: [...stats.peers.values()].map((p) => ({
        nodeId: p.nodeId,
        role: p.role,
        priority: p.priority,
        epoch: p.epoch,
        address: p.address,
        lastSeenAgeMs: Math.round(now - p.lastSeenMs),
      })),
      services: this.#services.map((s) => this.#serviceStatus(s, snapshot?.children[`service:${s.name}`] as AnyActorRef | undefined)),
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
