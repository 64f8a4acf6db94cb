/**
 * `hastate run --supervise`: for hosts without systemd, a small parent process that runs the
 * node as its child and, when the child dies abnormally (a signal it did not ask for, a
 * non-zero exit other than 2), sends the farewell on its behalf at once and then restarts it
 * with capped backoff. What systemd does with ExecStopPost= and Restart=, in one process.
 *
 * - Never two children: the next child is spawned only after the previous one's exit was
 *   seen (so it has been reaped) and after the farewell finished, which releases the state
 *   file's lock before the new child takes it.
 * - SIGTERM and SIGINT are forwarded to the child (a primary hands over as usual), SIGHUP as
 *   SIGTERM; then the supervisor restarts nothing and exits with the child's code. The child
 *   runs in its own process group, so a terminal's Ctrl-C reaches it once, through us.
 * - Exit 0 (the child was stopped by a signal sent to it directly) and exit 2 (bad
 *   configuration, or the state file locked by another node: restarting would fail again) end
 *   the supervisor with that code.
 * - Bounded: after MAX_CRASHES_IN_WINDOW abnormal exits within CRASH_WINDOW_MS it gives up
 *   (exit 1), as systemd's start limit does; the restart delay doubles from RESTART_BASE_MS to
 *   RESTART_MAX_MS and starts over after a run of STABLE_RUN_MS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { restartDelayMs } from '../../machines/backoff.ts';
import type { HastateConfig } from '../config/index.ts';
import { monotonicMs } from '../runtime/clock.ts';
import { farewellDatagrams, farewellNotApplicable } from '../runtime/farewell.ts';
import { openFarewellSocket, type OpenFarewellSocket } from '../transport/farewell-socket.ts';
import { attemptFarewell } from './farewell-command.ts';

export const RESTART_BASE_MS = 100;
export const RESTART_MAX_MS = 10_000;
/** A child that ran this long was healthy: the backoff starts over. */
export const STABLE_RUN_MS = 10_000;
/** Giving up: this many abnormal exits within CRASH_WINDOW_MS (as systemd's start limit). */
export const MAX_CRASHES_IN_WINDOW = 10;
export const CRASH_WINDOW_MS = 60_000;

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface SuperviseOptions {
  config: HastateConfig;
  log: Logger;
  /** The command line of the child: node's arguments and the `hastate run ...` arguments. */
  command: string;
  args: string[];
  /** Tests shorten these; the defaults are the exported constants. */
  limits?: Partial<SupervisorLimits>;
}

export interface SupervisorLimits {
  restartBaseMs: number;
  restartMaxMs: number;
  stableRunMs: number;
  maxCrashesInWindow: number;
  crashWindowMs: number;
}

export async function supervise(opts: SuperviseOptions): Promise<number> {
  const { config, log } = opts;
  const limits: SupervisorLimits = { restartBaseMs: RESTART_BASE_MS, restartMaxMs: RESTART_MAX_MS, stableRunMs: STABLE_RUN_MS, maxCrashesInWindow: MAX_CRASHES_IN_WINDOW, crashWindowMs: CRASH_WINDOW_MS, ...opts.limits };
  const ha = config.ha;
  // Opened once, before anything can die, so a farewell costs only its sends.
  let socket: OpenFarewellSocket | null = null;
  if (farewellNotApplicable(config) === null) {
    try {
      socket = await openFarewellSocket({ group: ha.multicastGroup, port: ha.heartbeat.port, interfaceAddress: ha.interface });
    } catch (error) {
      log.warn({ err: error }, `farewell socket not open (retried at each farewell): ${(error as Error).message}`);
    }
    // Run the encoding and signing once now, so the first real farewell does not pay for compiling them.
    farewellDatagrams(config, 0, Date.now());
  }

  return new Promise<number>((resolve) => {
    let child: ChildProcess | null = null;
    let startedMs = 0;
    let failures = 0;
    /** Monotonic times of the recent abnormal exits; at most maxCrashesInWindow kept. */
    const crashes: number[] = [];
    let stopping = false;
    let restartTimer: NodeJS.Timeout | null = null;

    const finish = (code: number) => {
      for (const signal of FORWARDED) process.off(signal, onSignal);
      if (restartTimer !== null) clearTimeout(restartTimer);
      socket?.close();
      resolve(code);
    };

    function onSignal(received: NodeJS.Signals) {
      stopping = true;
      // The node has no SIGHUP handler (it would die without handing over): a hang-up stops it as SIGTERM does.
      const signal = received === 'SIGHUP' ? 'SIGTERM' : received;
      if (child !== null) {
        log.info({ signal: received, childPid: child.pid }, `supervisor: forwarding ${signal} to the node`);
        child.kill(signal);
      } else {
        log.info({ signal }, 'supervisor: stopped while waiting to restart the node');
        finish(0);
      }
    }
    for (const signal of FORWARDED) process.on(signal, onSignal);

    const start = () => {
      restartTimer = null;
      if (stopping) return finish(0);
      startedMs = monotonicMs();
      const c = spawn(opts.command, opts.args, { stdio: 'inherit', detached: true });
      child = c;
      log.info({ event: 'supervisor-start', childPid: c.pid }, `supervisor: node process ${c.pid} started`);
      c.once('error', (error) => {
        log.fatal({ err: error }, `supervisor: cannot run the node: ${error.message}`);
        // Spawning failed: there is no child to wait for, and retrying would fail the same way.
        if (c.pid === undefined && child === c) finish(1);
      });
      c.once('exit', (code, signal) => void onExit(c, code, signal));
    };

    const onExit = async (c: ChildProcess, code: number | null, signal: NodeJS.Signals | null) => {
      child = null;
      const ranMs = monotonicMs() - startedMs;
      const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      if (stopping) {
        log.info({ event: 'supervisor-exit', childPid: c.pid, code, signal }, `supervisor: node process ${c.pid} ${how}; stopping`);
        return finish(code ?? 1);
      }
      if (code === 0 || code === 2) {
        log.info({ event: 'supervisor-exit', childPid: c.pid, code }, `supervisor: node process ${c.pid} ${how}; not restarting`);
        return finish(code);
      }
      log.error({ event: 'supervisor-crash', childPid: c.pid, code, signal, ranMs: Math.round(ranMs) }, `supervisor: node process ${c.pid} ${how}; sending its farewell`);
      const result = await attemptFarewell(config, socket ?? undefined);
      if (result.code === 0) log.info({ event: 'farewell', ...result.outcome }, result.outcome.sent ? `farewell sent for ${ha.nodeId} at epoch ${result.outcome.epoch}` : `no farewell: ${result.outcome.reason}`);
      else log.error({ event: 'farewell-failed', code: result.code }, result.message);
      // A stop signal that came during the farewell: nothing to restart.
      if (stopping) return finish(0);
      failures = ranMs >= limits.stableRunMs ? 1 : failures + 1;
      const nowMs = monotonicMs();
      crashes.push(nowMs);
      if (crashes.length > limits.maxCrashesInWindow) crashes.shift();
      if (crashes.length >= limits.maxCrashesInWindow && nowMs - crashes[0]! <= limits.crashWindowMs) {
        log.fatal({ event: 'supervisor-give-up', crashes: crashes.length }, `supervisor: the node died ${crashes.length} times within ${limits.crashWindowMs} ms; giving up`);
        return finish(1);
      }
      const delayMs = restartDelayMs(failures, limits.restartBaseMs, limits.restartMaxMs);
      log.info({ event: 'supervisor-restart', delayMs, failures }, `supervisor: restarting the node in ${delayMs} ms`);
      restartTimer = setTimeout(start, delayMs);
    };

    start();
  });
}
