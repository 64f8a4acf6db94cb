/// <reference lib="dom" />
/**
 * The live view in a real headless browser (Debian's chromium driven by playwright-core):
 * the standby's page shows the node becoming primary when the primary is killed, without a
 * reload. Skipped, visibly, where chromium is not installed; .ci/run installs it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { randomNetwork, startNode, stopAll, type NodeProcess } from './cluster.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`live-view browser test skipped: ${CHROMIUM} not found (apt-get install chromium)`);

let nodes: NodeProcess[] = [];
let browser: Browser | null = null;
afterEach(async () => {
  await browser?.close();
  browser = null;
  await stopAll(nodes);
  nodes = [];
});

describe('live view', () => {
  it.skipIf(!HAVE_CHROMIUM)('the standby\'s page shows it becoming primary when the primary dies, without a reload', async () => {
    const net = randomNetwork();
    // A 2 s window, so 127.0.0.2 wins even if it finishes starting a little after 127.0.0.3.
    const [a, b] = await Promise.all([startNode({ ...net, nodeId: '127.0.0.2', windowSeconds: 2 }), startNode({ ...net, nodeId: '127.0.0.3', windowSeconds: 2 })]);
    nodes.push(a, b);
    await Promise.all([a.waitForRole('primary', 15_000), b.waitForRole('standby', 15_000)]);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`http://127.0.0.1:${b.statusPort}/`, { timeout: 10_000 });
    await page.waitForFunction(() => document.getElementById('role')?.textContent === 'STANDBY', undefined, { timeout: 10_000 });
    expect(await page.locator('#state-standby').getAttribute('class')).toContain('active');
    expect(await page.evaluate(() => document.getElementById('state-standby.beat.beating')?.getAttribute('class'))).toBe('state active');
    await page.waitForFunction(() => document.querySelectorAll('#peers tr td').length > 1, undefined, { timeout: 10_000 });

    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    await a.kill('SIGKILL');
    await page.waitForFunction(() => document.getElementById('role')?.textContent === 'PRIMARY', undefined, { timeout: 10_000 });
    expect(navigations).toBe(0);
    expect(await page.locator('#state-primary').getAttribute('class')).toContain('active');
    expect(await page.locator('#state-standby').getAttribute('class')).not.toContain('active');
    await page.waitForFunction(() => (document.getElementById('history')?.textContent ?? '').includes('standby → primary'), undefined, { timeout: 5_000 });
    expect(await page.locator('#epoch').textContent()).toBe('2');
    // The run's picture goes to .results/; the committed one in visualizations/ (shown in the
    // docs) is retaken only on request, so that a test run leaves the tree clean.
    const shot = process.env.HASTATE_UPDATE_SCREENSHOT === '1' ? 'visualizations/live-view.png' : '.results/live-view.png';
    await page.screenshot({ path: join(import.meta.dirname, '../..', shot) });
    // Offline: the page fetched nothing but its own origin.
    expect(requests.every((u) => u.startsWith(`http://127.0.0.1:${b.statusPort}/`))).toBe(true);
  }, 60_000);
});
