/**
 * Notify hooks, like keepalived's notify_master / notify_backup / notify_fault: a shell
 * command run on each role change. The command gets the role, epoch and node id as `$1 $2
 * $3` and in `HASTATE_*` variables. The `stop` hook (keepalived's notify_stop) runs once when
 * the node stops, after its services have stopped, with `stopped` as the role.
 *
 * A hook never blocks the role machine: it runs as a child process after the change has been
 * made. Hooks run one at a time in the order of the changes (a slow `primary` hook is not
 * overtaken by the `standby` hook that follows it), each bounded by the timeout; the queue is
 * bounded too, and what it drops is logged and counted as a failure.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { RoleChange } from './node.ts';
import { monotonicMs } from './clock.ts';

/** Changes waiting behind a running hook; beyond this the oldest waiting one is dropped. */
export const MAX_PENDING_HOOKS = 32;
/** After SIGTERM at the timeout, a hook gets this long before SIGKILL. */
export const KILL_GRACE_MS = 1_000;
/** Output kept from each hook for the log. */
const MAX_OUTPUT_BYTES = 2_048;

export interface NotifyConfig {
  primary: string;
  standby: string;
  fault: string;
  /** Run once when the node stops; '' = none. */
  stop: string;
  timeoutMs: number;
}

export type HookKind = 'primary' | 'standby' | 'fault' | 'stop';

/** What a hook is told: a role change, or (for `stop`) the role the node stopped in and `to: 'stopped'`. */
export interface HookEvent {
  from: string;
  to: string;
  epoch: number;
  primaryId: string | null;
  reason: string;
}

export interface HookResult {
  kind: HookKind;
  command: string;
  epoch: number;
  /** Exit code, or null when killed by a signal or not started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  ok: boolean;
  error?: string;
  output: string;
}

export interface NotifierOptions {
  config: NotifyConfig;
  nodeId: string;
  log: Logger;
  /** Called once per hook that failed, timed out, or was dropped. */
  onFailure?: (result: HookResult) => void;
  /** Called after every hook (tests, metrics). */
  onResult?: (result: HookResult) => void;
}

/** Which hook a change calls, if any: entering primary or standby, or losing the transport. */
export function hookFor(change: RoleChange): HookKind | null {
  if (change.from === change.to) return null;
  if (change.to === 'primary') return 'primary';
  if (change.to === 'standby') return 'standby';
  // The machine drops to `unknown` only on a fault: its transport or coordinator is lost, or its epoch cannot be made durable.
  if (change.to === 'unknown' && change.from !== 'unknown') return 'fault';
  return null;
}

export function createNotifier(opts: NotifierOptions) {
  const log = opts.log.child({ component: 'notify' });
  const queue: { kind: HookKind; change: HookEvent }[] = [];
  let running: Promise<void> | null = null;
  let stopped = false;
  let stopRan = false;

  const report = (result: HookResult, timeoutMs = opts.config.timeoutMs) => {
    const fields = { hook: result.kind, epoch: result.epoch, code: result.code, signal: result.signal, durationMs: result.durationMs, output: result.output || undefined };
    if (result.ok) log.info(fields, `notify ${result.kind} hook exited 0 in ${result.durationMs} ms`);
    else {
      const why = result.error ?? (result.timedOut ? `timed out after ${timeoutMs} ms` : result.signal ? `killed by ${result.signal}` : `exited ${result.code}`);
      log.warn(fields, `notify ${result.kind} hook failed: ${why}`);
      opts.onFailure?.(result);
    }
    opts.onResult?.(result);
  };

  const run = (kind: HookKind, change: HookEvent, timeoutMs = opts.config.timeoutMs): Promise<void> =>
    new Promise((resolve) => {
      const command = opts.config[kind];
      const started = monotonicMs();
      let output = '';
      let timedOut = false;
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, error?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(killTimer);
        const result: HookResult = {
          kind, command, epoch: change.epoch, code, signal, timedOut,
          durationMs: Math.round(monotonicMs() - started),
          ok: error === undefined && !timedOut && code === 0,
          output: output.trim(),
          ...(error === undefined ? {} : { error }),
        };
        report(result, timeoutMs);
        resolve();
      };
      const env = {
        ...process.env,
        HASTATE_ROLE: change.to,
        HASTATE_FROM_ROLE: change.from,
        HASTATE_EPOCH: String(change.epoch),
        HASTATE_NODE_ID: opts.nodeId,
        HASTATE_PRIMARY_ID: change.primaryId ?? '',
        HASTATE_REASON: change.reason,
      };
      let killTimer: NodeJS.Timeout | undefined;
      // `sh -c CMD NAME ARGS...`: the role, epoch and node id become $1 $2 $3 of the command.
      const child = spawn('/bin/sh', ['-c', command, 'hastate-notify', change.to, String(change.epoch), opts.nodeId], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const keep = (chunk: Buffer) => {
        if (output.length < MAX_OUTPUT_BYTES) output += chunk.toString('utf8').slice(0, MAX_OUTPUT_BYTES - output.length);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      // Kill the whole process group: a hook's own children must not outlive its timeout.
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      }, timeoutMs);
      child.on('error', (error) => finish(null, null, `could not start: ${error.message}`));
      child.on('close', (code, signal) => finish(code, signal));
    });

  const pump = () => {
    if (running !== null || stopped) return;
    const next = queue.shift();
    if (next === undefined) return;
    running = run(next.kind, next.change).then(() => {
      running = null;
      pump();
    });
  };

  return {
    /** Listener for `HaNode.onRoleChange`. Returns at once. */
    onRoleChange(change: RoleChange): void {
      const kind = hookFor(change);
      if (kind === null || opts.config[kind] === '' || stopped) return;
      if (queue.length >= MAX_PENDING_HOOKS) {
        const dropped = queue.shift()!;
        report({ kind: dropped.kind, command: opts.config[dropped.kind], epoch: dropped.change.epoch, code: null, signal: null, timedOut: false, durationMs: 0, ok: false, error: `dropped: more than ${MAX_PENDING_HOOKS} hooks waiting`, output: '' });
      }
      queue.push({ kind, change });
      pump();
    },
    /** Waits (bounded) for the running hook; queued ones are dropped. */
    async stop(deadlineMs: number): Promise<void> {
      stopped = true;
      queue.length = 0;
      if (running === null) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((r) => (timer = setTimeout(r, deadlineMs)))]);
      clearTimeout(timer);
    },
    /**
     * Runs the `stop` hook once (after `stop()`, which drops queued role-change hooks), bounded
     * by `timeoutMs` and then the kill grace; resolves when it has finished or been killed.
     */
    async runStop(event: Omit<HookEvent, 'to'>, timeoutMs: number): Promise<void> {
      if (opts.config.stop === '' || stopRan) return;
      stopRan = true;
      let timer: NodeJS.Timeout | undefined;
      // The kill grace bounds a hook that ignores SIGTERM; the extra second covers a child that never reports 'close'.
      await Promise.race([run('stop', { ...event, to: 'stopped' }, timeoutMs), new Promise((r) => (timer = setTimeout(r, timeoutMs + KILL_GRACE_MS + 1_000)))]);
      clearTimeout(timer);
    },
    get pending(): number {
      return queue.length + (running === null ? 0 : 1);
    },
  };
}
