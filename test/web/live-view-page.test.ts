/** The live view HTML: self-contained (works offline), the diagram contract, the placeholder, the CSP. */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIAGRAM_PATH, LIVE_VIEW_CSP, liveViewPage, readDiagram, renderLiveViewPage } from '../../src/web/live-view.ts';

const html = liveViewPage();

/** The page without comments of any kind (HTML, CSS/JS block and line comments). */
function withoutComments(text: string): string {
  return text
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"])\/\/[^\n]*/g, '$1');
}

describe('live view page', () => {
  it('references nothing outside itself: no http(s) URL outside comments except SVG namespace names', () => {
    const code = withoutComments(html).replace(/\sxmlns(:\w+)?="http:\/\/www\.w3\.org\/[^"]*"/g, '');
    expect(code.match(/https?:\/\/[^\s"'<>]*/g)).toBeNull();
    expect(code).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}\//i); // protocol-relative URLs
    expect(code).not.toMatch(/@import/);
    // Every src/href attribute and CSS url() stays inside the page.
    for (const [, value] of code.matchAll(/\s(?:src|href)="([^"]*)"/g)) expect(value).toMatch(/^(data:|#)/);
    for (const [, value] of code.matchAll(/url\(([^)]*)\)/g)) expect(value).toMatch(/^#/);
  });

  it('inlines the generated role diagram with a group per state (the SVG contract)', () => {
    expect(DEFAULT_DIAGRAM_PATH).toMatch(/visualizations[/\\]role\.svg$/);
    for (const state of ['unknown', 'electing', 'primary', 'standby', 'standby.watch.watching']) {
      expect(html).toMatch(new RegExp(`<g class="state" id="state-${state.replace(/\./g, '\\.')}"`));
    }
    expect(html).not.toContain('diagram not generated');
  });

  it('updates live from /events with the page\'s elements present', () => {
    expect(html).toContain("new EventSource('/events')");
    for (const id of ['node', 'role', 'epoch', 'primary', 'hbage', 'peers', 'services', 'history', 'diagram']) expect(html).toContain(`id="${id}"`);
    // Data from the network is written as text, never as markup.
    expect(html).not.toContain('innerHTML');
  });

  it('shows a clear placeholder when the diagram is missing or not an SVG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastate-web-'));
    expect(readDiagram(join(dir, 'missing.svg'))).toBeNull();
    writeFileSync(join(dir, 'bad.svg'), '<html>not a diagram</html>');
    expect(readDiagram(join(dir, 'bad.svg'))).toBeNull();
    writeFileSync(join(dir, 'ok.svg'), '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg>\n<svg viewBox="0 0 1 1"></svg>\n');
    expect(readDiagram(join(dir, 'ok.svg'))).toBe('<svg viewBox="0 0 1 1"></svg>\n');
    const page = liveViewPage(join(dir, 'missing.svg'));
    expect(page).toContain('diagram not generated: run <code>npm run visualize</code>');
    expect(renderLiveViewPage(null)).toBe(page);
  });

  it('its Content-Security-Policy allows exactly its own inline script', () => {
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    expect(LIVE_VIEW_CSP).toContain(`script-src 'sha256-${hash}'`);
    expect(LIVE_VIEW_CSP).toContain("default-src 'none'");
    expect(LIVE_VIEW_CSP).toContain("connect-src 'self'");
  });
});
