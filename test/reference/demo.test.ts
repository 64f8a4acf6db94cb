/**
 * The demo end to end, shortened: two real node processes of the reference application, the
 * API stand-in and real clients. Killing the primary loses no accepted alert, the standby
 * takes over, monitor requests are answered by one node at a time, and the killed node
 * rejoins as standby.
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../scripts/demo.ts';

describe('reference application demo', () => {
  it('kill the primary under load: nothing accepted is lost, the standby takes over, the old primary rejoins as standby', async () => {
    const lines: string[] = [];
    const s = await runDemo({ durationMs: 7_000, killAtMs: 3_500, restartAtMs: 5_000, print: (l) => lines.push(l) });
    expect(s.alerts.accepted).toBeGreaterThan(50);
    expect(s.alerts.lost).toBe(0);
    expect(s.alerts.gaveUp).toBe(0);
    expect(s.failovers).toBe(1);
    // Bounded by the heartbeat timeout (0.6 s) plus scheduling; generous for a loaded CI machine.
    expect(s.switchMs).not.toBeNull();
    expect(s.switchMs!).toBeLessThan(3_000);
    expect(s.monitor.answeredTwice).toBe(0);
    expect(s.monitor.answered).toBeGreaterThan(s.monitor.sent / 2);
    expect(s.restartedAs).toBe('standby');
    expect(Object.keys(s.keepalives).sort()).toEqual(['node-a', 'node-b']);
    expect(lines.some((l) => l.includes('SIGKILL'))).toBe(true);
  }, 30_000);
});
