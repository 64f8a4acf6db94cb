/// <reference lib="dom" />
/**
 * The live view's script in a real headless browser against a status server with a fake
 * status: substates highlighted, peers written as text (a forged node id cannot inject
 * markup), silent peers marked, history replayed and appended, the placeholder when the
 * diagram is missing. Skipped, visibly, where chromium is not installed; .ci/run installs it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeStatus } from '../../src/runtime/status.ts';
import { statusService, type StatusServerOptions } from '../../src/services/status-server.ts';
import { fakeStatus } from '../services/helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`live-view browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)`);

let browser: Browser | null = null;
let cleanup: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 30_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function open(over: Partial<StatusServerOptions> = {}) {
  let status: NodeStatus = fakeStatus();
  const listeners = new Set<(e: object) => void>();
  const svc = statusService({
    host: '127.0.0.1',
    port: 0,
    getStatus: () => status,
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    snapshotIntervalMs: 100,
    ...over,
  });
  await svc.start!({} as never);
  cleanup.push(() => svc.stop!({} as never));
  const page: Page = await browser!.newPage();
  cleanup.push(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${svc.address()!.port}/`, { timeout: 10_000 });
  return {
    page,
    errors,
    setStatus: (s: NodeStatus) => (status = s),
    emit: (e: object) => listeners.forEach((l) => l(e)),
  };
}

const classOf = (page: Page, id: string) => page.evaluate((i) => document.getElementById(i)?.getAttribute('class') ?? null, id);

describe.skipIf(!HAVE_CHROMIUM)('live view script in chromium', () => {
  it('highlights the active substates and their ancestors, and follows role changes', async () => {
    const { page, errors, setStatus, emit } = await open();
    await page.waitForFunction(() => document.getElementById('role')?.textContent === 'STANDBY', undefined, { timeout: 5000 });
    for (const id of ['state-standby', 'state-standby.watch', 'state-standby.watch.watching', 'state-standby.beat.beating']) {
      expect(await classOf(page, id)).toBe('state active');
    }
    expect(await classOf(page, 'state-primary')).toBe('state');
    expect(await page.locator('#hbage').textContent()).toBe('120 ms');

    setStatus(fakeStatus({ role: 'primary', statePaths: ['primary.beating'], epoch: 4, primaryId: '127.0.0.9', lastPrimaryHeartbeatAgeMs: null }));
    emit({ from: 'standby', to: 'primary', epoch: 4, primaryId: '127.0.0.9', reason: 'primary silent past the timeout' });
    await page.waitForFunction(() => document.getElementById('role')?.textContent === 'PRIMARY', undefined, { timeout: 5000 });
    expect(await classOf(page, 'state-primary.beating')).toBe('state active');
    expect(await classOf(page, 'state-standby')).toBe('state');
    expect(await page.locator('#epoch').textContent()).toBe('4');
    expect(await page.locator('#hbage').textContent()).toBe('n/a (this node is primary)');
    await page.waitForFunction(() => document.getElementById('history')?.textContent?.includes('standby → primary'), undefined, { timeout: 5000 });
    expect(await page.locator('#history li').first().textContent()).toContain('epoch 4  primary silent past the timeout');
    expect(errors).toEqual([]);
  });

  it('writes peer data as text and marks silent peers', async () => {
    const forged = '<img src=x onerror=alert(1)>';
    const { page, errors } = await open({
      getStatus: () =>
        fakeStatus({
          peers: [
            { nodeId: forged, role: 'standby', priority: 1, epoch: 0, address: '127.0.0.1', lastSeenAgeMs: 20 },
            { nodeId: '127.0.0.8', role: 'primary', priority: 0, epoch: 3, address: '127.0.0.1', lastSeenAgeMs: 2500 },
          ],
        }),
    });
    await page.waitForFunction(() => document.querySelectorAll('#peers tr').length === 2, undefined, { timeout: 5000 });
    expect(await page.locator('#peers img').count()).toBe(0);
    expect(await page.locator('#peers tr').first().locator('td').first().textContent()).toBe(forged);
    const silent = page.locator('#peers tr').nth(1);
    expect(await silent.getAttribute('class')).toBe('silent');
    expect(await silent.textContent()).toContain('primary (silent)');
    expect(await silent.textContent()).toContain('2.5 s ago');
    expect(errors).toEqual([]);
  });

  it('replays the history to a page opened later', async () => {
    const listeners = new Set<(e: object) => void>();
    const { page } = await open({
      subscribe: (l) => {
        listeners.add(l);
        // Changes that happened before the page was opened.
        l({ from: 'unknown', to: 'electing', epoch: 0, primaryId: null, reason: 'transport up' });
        l({ from: 'electing', to: 'standby', epoch: 3, primaryId: '127.0.0.8', reason: 'found a live primary 127.0.0.8' });
        return () => listeners.delete(l);
      },
    });
    await page.waitForFunction(() => document.querySelectorAll('#history li').length === 2, undefined, { timeout: 5000 });
    expect(await page.locator('#history li').first().textContent()).toContain('electing → standby  epoch 3');
  });

  it('shows the placeholder when the diagram was not generated', async () => {
    const { page } = await open({ diagramSvgPath: '/nonexistent/role.svg' });
    expect(await page.locator('#diagram').textContent()).toBe('diagram not generated: run npm run visualize');
    await page.waitForFunction(() => document.getElementById('role')?.textContent === 'STANDBY', undefined, { timeout: 5000 });
  });
});
