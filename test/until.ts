/**
 * The one polling wait the tests share: vitest's `vi.waitUntil` with a deadline, and a failure
 * that says what was awaited (plus, for node processes, their recent logs) instead of vitest's
 * bare "Timed out in waitUntil!". It needs the vitest runner, so helpers that the bench scripts
 * also load (integration/cluster.ts, backends/servers.ts) keep their own runner-free loops.
 */
import { vi } from 'vitest';

export interface UntilOptions {
  /** How long to keep polling before failing; vitest times it with the monotonic setTimeout. */
  deadlineMs?: number;
  /** Pause between probes. */
  intervalMs?: number;
  /** Extra text for the failure, computed at the deadline (e.g. the nodes' recent log lines). */
  context?: () => string;
}

/** A probe's answer: a value (anything but undefined/false) ends the wait; undefined or false means not yet. */
export type Probe<T> = () => T | undefined | false | Promise<T | undefined | false>;

/**
 * Polls `probe` until it yields a value and returns that value, or fails naming `what` at the
 * deadline. A probe that throws fails the wait at once, with the probe's own error: a broken
 * probe is a failure to report, not a "not yet" to retry until the deadline.
 * `options` may be just the deadline in ms (default 5000).
 */
export async function until<T>(what: string, probe: Probe<T>, options: number | UntilOptions = {}): Promise<T> {
  const { deadlineMs = 5000, intervalMs = 10, context } = typeof options === 'number' ? { deadlineMs: options } : options;
  // Boxed, so that falsy values such as 0 or '' still count as answers, and a thrown error
  // leaves waitUntil (which would otherwise reject with it too) through the same door as a value.
  type Outcome = { value: T } | { error: unknown };
  let outcome: Outcome;
  try {
    outcome = await vi.waitUntil<Outcome | false>(
      async () => {
        try {
          const v = await probe();
          return v === undefined || v === false ? false : { value: v };
        } catch (error) {
          return { error };
        }
      },
      { timeout: deadlineMs, interval: intervalMs },
    );
  } catch (error) {
    // The callback never throws, so this is the deadline, unless vitest itself failed (e.g. when
    // imported outside the runner): that error is passed on, not disguised as a timeout.
    if (!(error instanceof Error && error.message.startsWith('Timed out in waitUntil'))) throw error;
    throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${context ? `\n${context()}` : ''}`);
  }
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
