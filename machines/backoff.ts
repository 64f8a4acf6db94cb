/**
 * Exponential backoff with a cap, shared by everything that retries: service restarts (the
 * service machine), the multicast transport reopening its socket, and the Redis and etcd
 * lease backends reconnecting. Pure (no imports) so the service machine can use it.
 */

/** Delay before the next attempt after `failures` consecutive failures: base * 2^(failures-1), capped at maxMs. */
export function restartDelayMs(failures: number, baseMs: number, maxMs: number): number {
  // The exponent is bounded so 2 ** exponent stays finite however long something keeps failing.
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}
