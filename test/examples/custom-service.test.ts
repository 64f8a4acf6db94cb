/** The README's copyable service, tested the way the README suggests: serviceHarness, each role, and the switch. */
import { afterEach, describe, expect, it } from 'vitest';
import { counterService } from '../../examples/custom-service.ts';
import { serviceHarness, type ServiceHarness } from '../../src/testing/index.ts';
import { freePort } from '../integration/cluster.ts';
import { until } from '../until.ts';

let h: ServiceHarness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

describe('the example counter service', () => {
  it('works only on the primary, names the primary on a standby, and follows a switch', async () => {
    const port = await freePort();
    const counter = counterService(port);
    h = serviceHarness(counter, { nodeId: 'me' });
    h.role('standby', { epoch: 1, primaryId: 'other' });
    const refused = await until('listening', async () => fetch(`http://127.0.0.1:${port}/`).catch(() => undefined));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ code: 'NOT_PRIMARY', role: 'standby', primary: 'other', retryAfterMs: 1000 });
    h.role('primary', { epoch: 2 });
    const ok = await fetch(`http://127.0.0.1:${port}/`);
    expect(ok.headers.get('hastate-epoch')).toBe('2');
    expect(await ok.json()).toEqual({ total: 1, epoch: 2 });
    h.role('electing');
    const switching = await fetch(`http://127.0.0.1:${port}/`);
    expect(switching.status).toBe(503);
    expect(await switching.json()).toMatchObject({ code: 'SWITCHING_OVER', role: 'electing' });
    expect(counter.total()).toBe(1);
  });
});
