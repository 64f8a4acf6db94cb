/** The data collector on a real HTTP stand-in: runs in every role, keeps data through failures, flags staleness, bounds slow calls. */
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/reference/api-client.ts';
import { startApiStandIn, type ApiStandIn } from '../../src/reference/api-stand-in.ts';
import { dataCollector } from '../../src/reference/collector.ts';
import { Repository } from '../../src/reference/repository.ts';
import { serviceHarness } from '../../src/testing/service-harness.ts';
import { until } from '../until.ts';
import { harnessesStoppedAfterEach } from './helpers.ts';

let standIn: ApiStandIn | null = null;
const harnesses = harnessesStoppedAfterEach(async () => {
  await standIn?.close();
  standIn = null;
});

async function setup(o: { intervalMs?: number; timeoutMs?: number; staleAfterMs?: number } = {}) {
  standIn = await startApiStandIn();
  const repo = new Repository(o.staleAfterMs ?? 10_000);
  const api = new ApiClient({ baseUrl: standIn.url, timeoutMs: o.timeoutMs ?? 1_000, retries: 1, retryBaseMs: 5 });
  const service = dataCollector({ repo, api, intervalMs: o.intervalMs ?? 20 });
  const h = serviceHarness(service);
  harnesses.push(h);
  return { repo, api, service, h };
}

describe('data collector', () => {
  it('collects in every role: a standby holds fresh data before it takes over', async () => {
    const { repo, h } = await setup();
    h.role('standby', { epoch: 1, primaryId: 'other' });
    await until('first collection', () => repo.updatedAtMs !== null);
    expect(repo.boards).toHaveLength(8);
    expect(repo.stacks.map((s) => s.id)).toEqual(['stack-a', 'stack-b', 'stack-c']);
    const served = standIn!.stats().boardsServed;
    h.role('primary', { epoch: 2 });
    await until('collections continue as primary', () => standIn!.stats().boardsServed >= served + 2);
    expect(repo.isStale()).toBe(false);
  });

  it('keeps the previous data when the API fails, counts the failures, and flags the data stale after staleAfterMs', async () => {
    const { repo, service, h } = await setup({ staleAfterMs: 150 });
    h.role('standby');
    await until('first collection', () => repo.updatedAtMs !== null);
    standIn!.setFaults({ down: true });
    await until('failures counted', () => ((service.status!().failures as number) >= 2 ? true : undefined));
    expect(repo.boards).toHaveLength(8);
    await until('stale flag', () => service.status!().stale === true);
    expect(service.status!().lastError).toMatch(/HTTP 503/);
    standIn!.setFaults({ down: false });
    await until('fresh again', () => service.status!().stale === false);
    expect(h.state().value).toBe('running');
  });

  it('a slow API call is abandoned at the timeout and counted, never stacking calls', async () => {
    const { service, api, h } = await setup({ timeoutMs: 30, intervalMs: 10 });
    standIn!.setFaults({ delayMs: 500 });
    h.role('standby');
    await until('timeouts counted', () => api.counters.timeouts >= 2);
    expect(service.status!().skipped as number).toBeGreaterThan(0);
    expect(service.status!().dataAgeMs).toBeNull();
  });
});
