/**
 * The event-loop lag probe behind hastate_event_loop_lag_seconds ticks once per heartbeat
 * interval (clamped to 100 ms..1 s), not at a fixed 100 ms: each tick wakes an idle node.
 * Driven by a fake clock, so the count of observations is exact.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNodeMetrics } from '../../src/runtime/metrics.ts';
import { TransportStats } from '../../src/transport/stats.ts';
import type { HaNode } from '../../src/runtime/node.ts';

/** The part of HaNode the lag probe reads; the collectors that need more are never scraped here. */
function nodeWithInterval(intervalMs: number): HaNode {
  return {
    config: { ha: { heartbeat: { intervalMs, timeoutMs: 3 * intervalMs } } },
    transportStats: new TransportStats(),
    onRoleChange: () => () => {},
  } as unknown as HaNode;
}

async function lagObservations(metrics: ReturnType<typeof createNodeMetrics>): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('hastate_event_loop_lag_seconds');
  const line = /^hastate_event_loop_lag_seconds_count (\d+)$/m.exec(text);
  if (line === null) throw new Error(`no _count line in:\n${text}`);
  return Number(line[1]);
}

describe('event-loop lag probe period', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    [100, 100],
    [1_000, 10],
    [250, 40],
    [5_000, 10], // at most 1 s between ticks
    [20, 100], // at least 100 ms between ticks
  ])('heartbeat interval %i ms: %i observations in 10 s', async (intervalMs, expected) => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const metrics = createNodeMetrics(nodeWithInterval(intervalMs));
    try {
      vi.advanceTimersByTime(10_000);
      expect(await lagObservations(metrics)).toBe(expected);
    } finally {
      metrics.stop();
    }
  });

  it('an explicit eventLoopSampleMs still wins', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const metrics = createNodeMetrics(nodeWithInterval(1_000), { eventLoopSampleMs: 200 });
    try {
      vi.advanceTimersByTime(10_000);
      expect(await lagObservations(metrics)).toBe(50);
    } finally {
      metrics.stop();
    }
  });
});
