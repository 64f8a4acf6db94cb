/**
 * Leader-only work as a service: leadership callbacks and periodic tasks, in the spirit of a
 * JobTracker (seed 001), driven by the node's role transitions like every other service.
 *
 * Guarantees:
 * - A primary task runs only while the node is primary. When the node stops being primary,
 *   the task's AbortSignal is aborted and its timer cleared synchronously, before the node
 *   reports its new role and before `onStoppedLeading` runs. Work that honours the signal is
 *   cancelled, not merely ignored.
 * - Runs of one task never overlap: a tick that finds the previous run still going is skipped
 *   and counted. Every run is bounded by `timeoutMs` (default: the interval).
 * - A failing task or callback is logged and counted; it does not restart the service or
 *   affect the role.
 * Not guaranteed: that a task ran at all during a short primary term (it runs at once on
 * becoming primary, then every interval), or exactly-once execution across a failover; use
 * the epoch (`info.epoch`) to fence side effects.
 */
import type { Role, RoleTransition, ServiceContext, ServiceDefinition } from './types.ts';
import { defineService } from './types.ts';
import { apiMisuse } from '../assert.ts';

/** Bounds on task intervals: below 1 ms is a busy loop, above a day is a mistake. */
const MIN_INTERVAL_MS = 1;
const MAX_INTERVAL_MS = 86_400_000;

export interface PeriodicTask<Info> {
  intervalMs: number;
  /** A run still going after this long has its signal aborted; default `intervalMs`. */
  timeoutMs?: number;
  /** Run once as soon as the role is entered; default true. */
  runImmediately?: boolean;
  run(signal: AbortSignal, info: Info, ctx: ServiceContext): void | Promise<void>;
}

export interface LeaderInfo {
  epoch: number;
}

export interface FollowerInfo {
  epoch: number;
  leaderId: string | null;
}

export interface LeaderJobsOptions {
  name: string;
  /** This node became primary. `signal` aborts when it stops being primary. */
  onStartedLeading?(info: LeaderInfo & { signal: AbortSignal }, ctx: ServiceContext): void | Promise<void>;
  /** This node stopped being primary (its primary task is already cancelled). */
  onStoppedLeading?(info: { epoch: number; to: Role; reason: string }, ctx: ServiceContext): void | Promise<void>;
  /** The cluster has a new primary (possibly this node). */
  onNewLeader?(leaderId: string, info: { epoch: number; self: boolean }, ctx: ServiceContext): void | Promise<void>;
  primaryTask?: PeriodicTask<LeaderInfo>;
  standbyTask?: PeriodicTask<FollowerInfo>;
}

export interface JobCounters {
  primaryRuns: number;
  standbyRuns: number;
  failures: number;
  skipped: number;
  cancelled: number;
  lastError: string | null;
}

function checkTask(name: string, which: string, task: PeriodicTask<unknown> | undefined): void {
  if (task === undefined) return;
  const check = (key: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_INTERVAL_MS || v > MAX_INTERVAL_MS) {
      throw apiMisuse(`leaderJobs ${name}: ${which}.${key} must be an integer number of ms (${MIN_INTERVAL_MS}..${MAX_INTERVAL_MS}), got ${String(v)}`, TypeError);
    }
  };
  check('intervalMs', task.intervalMs);
  if (task.timeoutMs !== undefined) check('timeoutMs', task.timeoutMs);
  if (typeof task.run !== 'function') throw apiMisuse(`leaderJobs ${name}: ${which}.run must be a function`, TypeError);
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A service that runs `opts`' callbacks and periodic tasks according to the node's role. */
export function leaderJobs(opts: LeaderJobsOptions): ServiceDefinition & { counters(): JobCounters } {
  checkTask(opts.name, 'primaryTask', opts.primaryTask as PeriodicTask<unknown> | undefined);
  checkTask(opts.name, 'standbyTask', opts.standbyTask as PeriodicTask<unknown> | undefined);
  const counters: JobCounters = { primaryRuns: 0, standbyRuns: 0, failures: 0, skipped: 0, cancelled: 0, lastError: null };
  let lastLeader: string | null = null;
  let standbyStop: AbortController | null = null;
  let leaderInfo: FollowerInfo = { epoch: 0, leaderId: null };
  let running = { primary: false, standby: false };

  const failed = (ctx: ServiceContext, what: string, error: unknown) => {
    counters.failures++;
    counters.lastError = `${what}: ${errorText(error)}`;
    ctx.log.warn({ err: error instanceof Error ? error : undefined }, `${what} failed: ${errorText(error)}`);
  };

  /** Runs `task` every interval until `scope` aborts; never two runs at once. */
  const loop = <Info>(which: 'primary' | 'standby', task: PeriodicTask<Info>, scope: AbortSignal, info: () => Info, ctx: ServiceContext) => {
    const timeoutMs = task.timeoutMs ?? task.intervalMs;
    const tick = () => {
      if (scope.aborted) return;
      if (running[which]) {
        counters.skipped++;
        return;
      }
      running[which] = true;
      const signal = AbortSignal.any([scope, AbortSignal.timeout(timeoutMs)]);
      if (which === 'primary') counters.primaryRuns++;
      else counters.standbyRuns++;
      Promise.resolve()
        .then(() => task.run(signal, info(), ctx))
        .catch((error) => {
          if (scope.aborted) counters.cancelled++;
          else failed(ctx, `${which}Task`, error);
        })
        .finally(() => {
          running[which] = false;
        });
    };
    const timer = setInterval(tick, task.intervalMs);
    // Cleared in the same tick the role is lost: no run can start after that.
    scope.addEventListener('abort', () => clearInterval(timer), { once: true });
    if (task.runImmediately !== false) tick();
  };

  const call = async (ctx: ServiceContext, what: string, fn: () => void | Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      failed(ctx, what, error);
    }
  };

  const definition = defineService({
    name: opts.name,
    async onRoleChange(t: RoleTransition, ctx: ServiceContext) {
      leaderInfo = { epoch: t.epoch, leaderId: t.primaryId };
      const becamePrimary = t.to === 'primary' && t.from !== 'primary';
      const leftPrimary = t.from === 'primary' && t.to !== 'primary';
      if (leftPrimary && opts.onStoppedLeading) {
        await call(ctx, 'onStoppedLeading', () => opts.onStoppedLeading!({ epoch: t.epoch, to: t.to, reason: t.reason }, ctx));
      }
      if (t.to !== 'standby' && standbyStop !== null) {
        standbyStop.abort();
        standbyStop = null;
      }
      if (t.primaryId !== null && t.primaryId !== lastLeader && (t.to === 'primary' || t.to === 'standby')) {
        lastLeader = t.primaryId;
        if (opts.onNewLeader) {
          const leaderId = t.primaryId;
          await call(ctx, 'onNewLeader', () => opts.onNewLeader!(leaderId, { epoch: t.epoch, self: leaderId === ctx.nodeId }, ctx));
        }
      }
      if (becamePrimary) {
        const signal = ctx.primarySignal();
        // A later transition may already have taken primary away again: nothing to start.
        if (signal.aborted) return;
        if (opts.onStartedLeading) await call(ctx, 'onStartedLeading', () => opts.onStartedLeading!({ epoch: t.epoch, signal }, ctx));
        if (opts.primaryTask && !signal.aborted) loop('primary', opts.primaryTask, signal, () => ({ epoch: leaderInfo.epoch }), ctx);
      }
      if (t.to === 'standby' && standbyStop === null && opts.standbyTask) {
        standbyStop = new AbortController();
        const scope = AbortSignal.any([standbyStop.signal, ctx.signal]);
        loop('standby', opts.standbyTask, scope, () => ({ ...leaderInfo }), ctx);
      }
    },
    stop() {
      standbyStop?.abort();
      standbyStop = null;
      running = { primary: false, standby: false };
    },
    status: () => ({ jobs: { ...counters } }),
  });
  return Object.assign(definition, { counters: () => ({ ...counters }) });
}
