import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/status-command.ts';
import { fakeStatus } from '../services/helpers.ts';

describe('hastate status output', () => {
  it('names the multicast group and datagram counters for the multicast backend', () => {
    const out = formatStatus(fakeStatus());
    expect(out).toMatch(/^transport up \S+:\d+ via /m);
    expect(out).toMatch(/^packets\s+sent \d+/m);
  });

  it('names the coordinator and request counters for a lease backend', () => {
    const s = fakeStatus({ backend: 'redis' });
    s.transport = { up: false, lastError: 'campaign: Command timed out', group: '', port: 0, interface: '', coordinator: { backend: 'redis', url: 'redis://10.0.0.5:6379', keyPrefix: 'shop' } };
    s.packets = { sent: 12, received: 10, sendErrors: 2 };
    s.timing = { ...s.timing, lease: { ttlMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } };
    const out = formatStatus(s);
    expect(out).toContain('backend   DOWN redis redis://10.0.0.5:6379 prefix shop   last error: campaign: Command timed out');
    expect(out).toContain('requests  sent 12  answered 10  failed 2');
    expect(out).toContain('primary   127.0.0.8   lease ttl 15 s, renew deadline 10 s, retry 2 s');
    expect(out).not.toContain('heartbeat');
    expect(out).not.toMatch(/^packets/m);
  });
});
