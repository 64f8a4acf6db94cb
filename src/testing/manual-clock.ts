/**
 * A deterministic clock for XState actor systems: timers fire only when the test advances
 * time, in due-time order (ties in scheduling order), including timers scheduled by the
 * timers that fire meanwhile. XState's own SimulatedClock fires only the timers that were
 * already due when `increment` was called, which hides periodic heartbeats.
 */
import { apiMisuse } from '../assert.ts';

export interface ManualTimer {
  id: number;
  dueMs: number;
  fn: () => void;
}

export class ManualClock {
  #nowMs = 0;
  #nextId = 1;
  #timers = new Map<number, ManualTimer>();
  /** Guard against a machine that schedules zero-delay timers forever. */
  maxFiresPerAdvance = 1_000_000;

  now(): number {
    return this.#nowMs;
  }

  setTimeout = (fn: (...args: unknown[]) => void, timeoutMs: number): number => {
    const id = this.#nextId++;
    const delay = Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 0;
    this.#timers.set(id, { id, dueMs: this.#nowMs + delay, fn });
    return id;
  };

  clearTimeout = (id: unknown): void => {
    this.#timers.delete(id as number);
  };

  /** The earliest pending timer, or undefined. */
  next(): ManualTimer | undefined {
    let earliest: ManualTimer | undefined;
    for (const t of this.#timers.values()) {
      if (earliest === undefined || t.dueMs < earliest.dueMs || (t.dueMs === earliest.dueMs && t.id < earliest.id)) earliest = t;
    }
    return earliest;
  }

  /** Fire every timer due up to now + ms, in order, then set the time to now + ms. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw apiMisuse(`advance(${ms}): must be >= 0`);
    const target = this.#nowMs + ms;
    let fired = 0;
    for (;;) {
      const t = this.next();
      if (t === undefined || t.dueMs > target) break;
      this.#timers.delete(t.id);
      this.#nowMs = t.dueMs;
      t.fn();
      if (++fired > this.maxFiresPerAdvance) throw apiMisuse('ManualClock: too many timers fired in one advance', Error);
    }
    this.#nowMs = target;
  }

  get pending(): number {
    return this.#timers.size;
  }
}
