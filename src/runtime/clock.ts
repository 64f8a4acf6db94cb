import { performance } from 'node:perf_hooks';

/**
 * Monotonic milliseconds for every timing decision: wall-clock time jumps (NTP steps,
 * manual changes, VM resume) and must never cause or prevent a failover.
 */
export const monotonicMs = (): number => performance.now();

/** The XState clock backed by host timers; delays in machines run on the monotonic timer queue. */
export const hostClock = {
  setTimeout: (fn: (...args: unknown[]) => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout),
};
