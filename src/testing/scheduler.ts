/**
 * The single event queue of a simulated cluster. Entries run in order of time, then phase,
 * then insertion. Phases mirror one turn of Node's event loop, which matters for stalls:
 * timers run before I/O callbacks (datagrams), and setImmediate callbacks after both.
 */
export const enum Phase {
  Timer = 0,
  Io = 1,
  Immediate = 2,
}

export interface Entry {
  atMs: number;
  phase: Phase;
  seq: number;
  /** The node whose event loop runs this entry; null for the simulation's own actions. */
  owner: string | null;
  fn: () => void;
  cancelled: boolean;
}

const before = (a: Entry, b: Entry) =>
  a.atMs !== b.atMs ? a.atMs < b.atMs : a.phase !== b.phase ? a.phase < b.phase : a.seq < b.seq;

export class Scheduler {
  nowMs = 0;
  #seq = 0;
  #heap: Entry[] = [];

  push(atMs: number, phase: Phase, owner: string | null, fn: () => void): Entry {
    const entry: Entry = { atMs: Math.max(atMs, this.nowMs), phase, seq: this.#seq++, owner, fn, cancelled: false };
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
    return entry;
  }

  /** Removes and returns the next entry due at or before `untilMs`, skipping cancelled ones. */
  pop(untilMs: number): Entry | undefined {
    const heap = this.#heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      if (top.atMs > untilMs) return undefined;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!];
          i = m;
        }
      }
      if (!top.cancelled) return top;
    }
    return undefined;
  }

  get size(): number {
    return this.#heap.length;
  }
}

/** What the scheduler needs of a simulated process to run its entries as its event loop would. */
export interface LoopOwner {
  paused: boolean;
  backlog: Entry[];
}

/**
 * Runs `entry` as its owner's process would: not at all if the process is dead or unknown
 * (`owner` null), later if it is paused (queued in its backlog), now otherwise. Entries of the
 * simulation itself (`entry.owner` null) run now. Returns whether it ran.
 */
export function runAsOwner(entry: Entry, owner: LoopOwner | null, alive: boolean): boolean {
  if (entry.owner !== null) {
    if (owner === null || !alive) return false;
    if (owner.paused) {
      owner.backlog.push(entry);
      return false;
    }
  }
  entry.fn();
  return true;
}

/** A paused process resumes: everything that came due meanwhile runs now, in event-loop order. */
export function resumeOwner(scheduler: Scheduler, owner: LoopOwner): void {
  owner.paused = false;
  const backlog = owner.backlog;
  owner.backlog = [];
  for (const e of backlog) scheduler.push(scheduler.nowMs, e.phase, e.owner, e.fn);
}
