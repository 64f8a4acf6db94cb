/**
 * Bookkeeping every coordinator does the same way, kept in one place so the Redis and etcd
 * backends, and the lease simulator that checks their rule, cannot drift apart.
 */
import type { LeaseEvent, LeaseTiming } from '../../machines/lease.machine.ts';

/**
 * How long this node may act as primary, as services' `isPrimary()` sees it: the renew
 * deadline counted from when the last successful grant or renewal was *sent* (now - RTT), so
 * it ends before the coordinator can expire the lease. Losing or releasing the lease ends it.
 */
export class LeaseValidity {
  #untilMs = 0;
  constructor(readonly renewDeadlineMs: number) {}

  /** Every event the coordinator reports to the lease machine, with the node's clock now. */
  note(event: LeaseEvent, nowMs: number): void {
    if (event.type === 'LEASE.ACQUIRED' || event.type === 'LEASE.RENEWED') this.#untilMs = Math.max(this.#untilMs, nowMs - event.rttMs + this.renewDeadlineMs);
    else if (event.type === 'LEASE.LOST') this.#untilMs = 0;
  }

  /** The node released the lease (resign, shutdown, step-down). */
  end(): void {
    this.#untilMs = 0;
  }

  /** Node-clock ms until which it may act; 0 when it holds no lease. */
  untilMs(): number {
    return this.#untilMs;
  }
}

/** Requests in flight, so that shutdown can wait (bounded) for a release to reach the server. */
export class InFlight {
  readonly #pending = new Set<Promise<unknown>>();

  add<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p)).catch(() => {});
    return p;
  }

  /** Resolves when everything now in flight has settled. */
  settled(): Promise<void> {
    return Promise.allSettled([...this.#pending]).then(() => {});
  }

  /** Like settled(), but gives up after timeoutMs. */
  async flush(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}

/** Bound on one coordinator request: one that outlives a period is useless, the next is due. */
export const requestTimeoutMs = (timing: LeaseTiming): number => Math.max(50, Math.min(timing.retryPeriodMs, 2_000));
