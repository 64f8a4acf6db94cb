/**
 * Anti-replay window for one sender's authenticated stamps (see auth.ts for the stamp).
 *
 * A plain "must exceed the last accepted stamp" rule is sound but too strict for UDP: a link
 * that reorders two datagrams sent close together makes the receiver drop the older one as a
 * replay although it never saw it. A resign is exactly such a burst (leaving declarations, then
 * a standby declaration, in one synchronous step), and losing the leaving ones turns an
 * immediate hand-over into a wait for the heartbeat timeout. Changing the send order in the role
 * machine would only fix that one burst; any other pair of datagrams can be reordered too, so
 * the tolerance belongs in the receiver's replay rule, next to the stamps it judges.
 *
 * Like IPsec's anti-replay bitmap, the window remembers the stamps it accepted rather than one
 * mark. Stamps are not dense (wall ms × 1024 + counter), so it keeps the stamps themselves: the
 * last REPLAY_WINDOW_STAMPS accepted, sorted. A stamp below the newest is accepted only if
 *   - it is not among the remembered ones (a duplicate is a replay),
 *   - it is at most a small reorder window (REORDER_WINDOW_MS in auth.ts) behind the newest
 *     accepted (a late straggler is refused, as before), and
 *   - when the memory is full, it is above the oldest remembered stamp.
 * Soundness: a stamp leaves the memory only when the memory is full and it is the smallest, so
 * every stamp ever accepted is either remembered or below the oldest remembered one; both are
 * refused. Memory per sender is bounded by REPLAY_WINDOW_STAMPS numbers.
 */
/** Remembered stamps per sender: far more than any burst a node sends in one step. */
export const REPLAY_WINDOW_STAMPS = 32;

export type ReplayVerdict = { ok: true } | { ok: false; detail: string };

export class ReplayWindow {
  /** Accepted stamps, ascending; never empty once constructed. */
  readonly #stamps: number[];

  /** How far below the newest a not-yet-seen stamp may be, in stamp steps (auth.ts derives it from ms). */
  readonly #maxBehind: number;

  constructor(firstStamp: number, maxBehindStamps: number) {
    this.#stamps = [firstStamp];
    this.#maxBehind = maxBehindStamps;
  }

  /** The newest accepted stamp. */
  get newest(): number {
    return this.#stamps[this.#stamps.length - 1]!;
  }

  get size(): number {
    return this.#stamps.length;
  }

  /** Whether `stamp` may be accepted; does not record it (the tag is checked in between). */
  admits(stamp: number, senderId: string): ReplayVerdict {
    const newest = this.newest;
    if (stamp > newest) return { ok: true };
    const behind = newest - stamp;
    if (behind > this.#maxBehind) {
      return { ok: false, detail: `stamp from ${senderId} is ${behind} steps behind the newest accepted (reorder window ${this.#maxBehind} steps)` };
    }
    const oldest = this.#stamps[0]!;
    if (this.#stamps.length >= REPLAY_WINDOW_STAMPS && stamp < oldest) {
      return { ok: false, detail: `stamp from ${senderId} is older than the last ${REPLAY_WINDOW_STAMPS} accepted` };
    }
    if (this.#indexOf(stamp) >= 0) return { ok: false, detail: `stamp from ${senderId} was already accepted` };
    return { ok: true };
  }

  /** Records a stamp that `admits` allowed and whose tag verified. */
  record(stamp: number): void {
    const stamps = this.#stamps;
    // Common case, in order: append. Otherwise insert in place (at most REPLAY_WINDOW_STAMPS moves).
    let at = stamps.length;
    while (at > 0 && stamps[at - 1]! > stamp) at--;
    stamps.splice(at, 0, stamp);
    if (stamps.length > REPLAY_WINDOW_STAMPS) stamps.shift();
  }

  #indexOf(stamp: number): number {
    // Linear from the newest end: reordered stamps are near it, and the array is tiny.
    for (let i = this.#stamps.length - 1; i >= 0; i--) {
      const s = this.#stamps[i]!;
      if (s === stamp) return i;
      if (s < stamp) return -1;
    }
    return -1;
  }
}
