/**
 * What the Redis and etcd cores share: the pure part of a coordinator. A core turns the lease
 * machine's commands into requests to the server (plain data), and the server's answers (a
 * reply, an error, a timeout) into lease-machine events and the `LeaseValidity` bookkeeping.
 * It reads no clock (every entry point takes `nowMs`, the node's monotonic clock), sets no
 * timer and opens no connection: its host does. The host is the real I/O shell (redis.ts,
 * etcd.ts) or the lease simulator, so the simulator checks the very code that interprets
 * real replies.
 */
import type { LeaseEvent } from '../../machines/lease.machine.ts';
import type { TransportStats } from '../transport/stats.ts';
import type { LeaseValidity } from './lease-keeping.ts';

/** How one request ended: the server's reply, or why there is none (error, timeout, connection). */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What a core asks of the shell that runs it. */
export interface CoreHost<Call> {
  /** An event for the lease machine (already noted in the lease validity). */
  emit(event: LeaseEvent): void;
  /**
   * Sends `call` to the server, bounded by the request timeout. The host answers with
   * `core.settle(id, outcome, nowMs)` exactly once: the reply, the error, or the timeout.
   */
  send(id: number, call: Call): void;
  log(level: LogLevel, fields: Record<string, unknown>, msg: string): void;
  /** A value from the server that hastate did not write: counted by reason (and logged by the real shell). */
  drop(reason: string, detail: string, level: 'warn' | 'error'): void;
  /** A failed request: counted (and logged, rate-limited, by the real shell). */
  failed(message: string): void;
}

interface Pending {
  sentAtMs: number;
  then: (outcome: Outcome, rttMs: number) => void;
}

/**
 * A multi-step exchange written as a generator: it yields a call, receives the call's reply,
 * and so on. A failed call ends it (the caller reports the failure).
 */
export type Flow<Call, R = void> = Generator<Call, R, unknown>;

/** The duplicate-id error is logged at most once per this window while the conflict lasts. */
const CONFLICT_LOG_WINDOW_MS = 10_000;

export abstract class LeaseCore<Call> {
  /** The node's clock at the current entry point; set by `at()`. */
  protected nowMs = 0;
  protected closed = false;
  /** When the duplicate-id error was last logged; null while no other process holds our id. */
  protected conflictLoggedMs: number | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  constructor(
    protected readonly host: CoreHost<Call>,
    protected readonly stats: TransportStats,
    protected readonly validity: LeaseValidity,
  ) {}

  /** Every public entry point starts here: the node's clock now. */
  protected at(nowMs: number): void {
    this.nowMs = nowMs;
  }

  protected emit(event: LeaseEvent): void {
    this.validity.note(event, this.nowMs);
    this.host.emit(event);
  }

  /** One request; `then` gets its outcome and round trip (on the node's clock). */
  protected call(call: Call, then: (outcome: Outcome, rttMs: number) => void): void {
    const id = this.#nextId++;
    this.#pending.set(id, { sentAtMs: this.nowMs, then });
    this.stats.sent++;
    this.host.send(id, call);
  }

  /**
   * Runs `flow` to its end, one call at a time: `done` when it returns, `failed` at the first
   * failed call (or a reply it could not make sense of), and the flow ends there.
   */
  protected run(flow: Flow<Call>, done: () => void, failed: (error: string) => void): void {
    const step = (reply: unknown) => {
      let next: IteratorResult<Call, void>;
      try {
        next = flow.next(reply);
      } catch (error) {
        failed(error instanceof Error ? error.message : String(error));
        return;
      }
      if (next.done === true) done();
      else
        this.call(next.value, (outcome) => {
          if (outcome.ok) step(outcome.value);
          else failed(outcome.error);
        });
    };
    step(undefined);
  }

  /** Whether to log the duplicate-id error now (once per window while the conflict lasts). */
  protected conflictLogDue(): boolean {
    if (this.conflictLoggedMs !== null && this.nowMs - this.conflictLoggedMs < CONFLICT_LOG_WINDOW_MS) return false;
    this.conflictLoggedMs = this.nowMs;
    return true;
  }

  /** The answer to request `id`: its reply, error or timeout. Later answers to the same id are ignored. */
  settle(id: number, outcome: Outcome, nowMs: number): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    // After the actor stopped, answers change nothing: the lease machine is gone.
    if (this.closed) return;
    this.at(nowMs);
    if (outcome.ok) this.stats.received++;
    pending.then(outcome, nowMs - pending.sentAtMs);
  }

  /** The actor stopped: nothing more is reported to the lease machine. */
  close(nowMs: number): void {
    this.at(nowMs);
    this.closed = true;
  }
}
