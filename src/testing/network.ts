import type { Prng } from './prng.ts';

/** Faults applied to every datagram on every link, unless a link is blocked outright. */
export interface LinkFaults {
  /** Probability that a datagram is lost. */
  lossRate: number;
  /** Never lose more than this many datagrams in a row on one link (Infinity: no cap). */
  maxConsecutiveLoss: number;
  /** Probability that a datagram is delivered twice. */
  duplicateRate: number;
  /** Fixed one-way delay plus uniform jitter in [0, jitterMs]; jitter reorders datagrams. */
  delayMs: number;
  jitterMs: number;
  /**
   * Probability that an on-path attacker also delivers a tampered copy (see tamper()).
   * Without ha.auth such a copy may be believed: use it with auth on, where every one of them
   * must be dropped.
   */
  tamperRate: number;
}

export const HEALTHY: LinkFaults = { lossRate: 0, maxConsecutiveLoss: Infinity, duplicateRate: 0, delayMs: 1, jitterMs: 1, tamperRate: 0 };

/**
 * A copy of `data` as an on-path attacker sends it, trailer untouched: half the time with one
 * random bit flipped, otherwise rewritten to claim the primary role at the highest priority
 * (codec.ts: role at byte 3, int32 priority at bytes 4..7), the lie that would do most harm.
 */
export function tamper(data: Uint8Array, prng: Prng): Uint8Array {
  const copy = Uint8Array.from(data);
  if (prng.chance(0.5)) {
    const bit = prng.int(0, copy.byteLength * 8 - 1);
    copy[bit >> 3]! ^= 1 << (bit & 7);
  } else {
    copy.set([1, 0x7f, 0xff, 0xff, 0xff], 3);
  }
  return copy;
}

/**
 * Who can hear whom. A partition is a list of sides; nodes on a common side hear each other.
 * A node listed on two sides is a bridge that hears (and is heard by) both. One-way blocks
 * model asymmetric faults such as a broken receive path.
 */
export class Topology {
  #sides: string[][] | null = null;
  #oneWay = new Set<string>();

  partition(sides: string[][]): void {
    this.#sides = sides.map((s) => [...s]);
  }

  blockOneWay(from: string, to: string): void {
    this.#oneWay.add(`${from}>${to}`);
  }

  heal(): void {
    this.#sides = null;
    this.#oneWay.clear();
  }

  get healthy(): boolean {
    return this.#sides === null && this.#oneWay.size === 0;
  }

  canDeliver(from: string, to: string): boolean {
    if (this.#oneWay.has(`${from}>${to}`)) return false;
    if (this.#sides === null) return true;
    // A node on no side is isolated: it is not part of any group that can hear it.
    return this.#sides.some((side) => side.includes(from) && side.includes(to));
  }
}

/** Decides the fate of one datagram on one link: the delays at which copies arrive (empty: lost). */
export class LinkState {
  #consecutiveLosses = new Map<string, number>();

  deliveries(from: string, to: string, faults: LinkFaults, prng: Prng): number[] {
    const key = `${from}>${to}`;
    const losses = this.#consecutiveLosses.get(key) ?? 0;
    if (losses < faults.maxConsecutiveLoss && prng.chance(faults.lossRate)) {
      this.#consecutiveLosses.set(key, losses + 1);
      return [];
    }
    this.#consecutiveLosses.set(key, 0);
    const delay = () => faults.delayMs + prng.next() * faults.jitterMs;
    return prng.chance(faults.duplicateRate) ? [delay(), delay()] : [delay()];
  }
}
