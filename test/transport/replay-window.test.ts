import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPLAY_WINDOW_STAMPS, ReplayWindow } from '../../src/transport/replay-window.ts';

const MAX_BEHIND = 1000;
/** Admits and, if admitted, records: what AuthVerifier does around a valid tag. */
const offer = (w: ReplayWindow, stamp: number) => {
  const verdict = w.admits(stamp, 'node-a');
  if (verdict.ok) w.record(stamp);
  return verdict.ok ? 'accepted' : verdict.detail;
};

describe('ReplayWindow (per-sender anti-replay)', () => {
  it('refuses a duplicate of the newest and of an older remembered stamp', () => {
    const w = new ReplayWindow(500, MAX_BEHIND);
    expect(offer(w, 500)).toMatch(/already accepted/);
    expect(offer(w, 510)).toBe('accepted');
    expect(offer(w, 500)).toMatch(/already accepted/);
    expect(offer(w, 510)).toMatch(/already accepted/);
  });

  it('accepts a reordered, never-seen stamp within the window exactly once', () => {
    const w = new ReplayWindow(100, MAX_BEHIND);
    expect(offer(w, 103)).toBe('accepted');
    expect(offer(w, 101)).toBe('accepted');
    expect(offer(w, 102)).toBe('accepted');
    for (const s of [101, 102, 103, 100]) expect(offer(w, s)).toMatch(/already accepted/);
    expect(w.newest).toBe(103);
    // Below the first stamp seen but within the window: never accepted, so not a replay.
    expect(offer(w, 99)).toBe('accepted');
    expect(offer(w, 99)).toMatch(/already accepted/);
  });

  it('refuses a stamp further behind the newest than the reorder window', () => {
    const w = new ReplayWindow(5000, MAX_BEHIND);
    expect(offer(w, 5000 - MAX_BEHIND)).toBe('accepted');
    expect(offer(w, 5000 - MAX_BEHIND - 1)).toMatch(/steps behind the newest accepted/);
    expect(offer(w, 9000)).toBe('accepted');
    expect(offer(w, 4999)).toMatch(/steps behind/);
  });

  it('keeps at most REPLAY_WINDOW_STAMPS stamps and refuses anything below the oldest kept', () => {
    const w = new ReplayWindow(0, 10 * REPLAY_WINDOW_STAMPS);
    // Every other stamp, so the gaps below are never-seen stamps.
    for (let i = 1; i < 3 * REPLAY_WINDOW_STAMPS; i++) {
      expect(offer(w, 2 * i)).toBe('accepted');
      expect(w.size).toBeLessThanOrEqual(REPLAY_WINDOW_STAMPS);
    }
    expect(w.size).toBe(REPLAY_WINDOW_STAMPS);
    const newest = w.newest;
    const oldestKept = newest - 2 * (REPLAY_WINDOW_STAMPS - 1);
    // Within the reorder window but below the memory: refused, since it may have been accepted.
    expect(offer(w, oldestKept - 2)).toMatch(new RegExp(`older than the last ${REPLAY_WINDOW_STAMPS}`));
    expect(offer(w, oldestKept - 1)).toMatch(/older than the last/);
    // A never-seen gap inside the memory is still accepted once.
    expect(offer(w, oldestKept + 1)).toBe('accepted');
    expect(offer(w, oldestKept + 1)).toMatch(/already accepted/);
    expect(w.size).toBe(REPLAY_WINDOW_STAMPS);
  });

  it('property: no stamp is ever accepted twice, whatever the order and repetition of offers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }), (first, offers) => {
        const w = new ReplayWindow(first, 50);
        const accepted = new Set([first]);
        for (const s of offers) {
          const newestBefore = w.newest;
          if (offer(w, s) !== 'accepted') continue;
          expect(accepted.has(s)).toBe(false);
          expect(newestBefore - s).toBeLessThanOrEqual(50);
          accepted.add(s);
          expect(w.size).toBeLessThanOrEqual(REPLAY_WINDOW_STAMPS);
        }
      }),
      { seed: 20261129, numRuns: 300 },
    );
  });
});
