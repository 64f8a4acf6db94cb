/**
 * The compiled build (`npm run build`, tsconfig.build.json): the CLI runs from it with plain
 * node, finds its package.json and diagrams from dist/, and serves a node's status and live view.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../integration/cluster.ts';

const ROOT = join(import.meta.dirname, '../..');
/** Not dist/: a developer's own build is left alone. */
const OUT = join(ROOT, '.build-test');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe('compiled build', () => {
  it('compiles, and the CLI runs from it with plain node: version, validate, and a running node', async () => {
    execFileSync(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', OUT], { cwd: ROOT, stdio: 'pipe' });
    const cli = join(OUT, 'src/cli/main.js');
    const version = execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).trim();
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(execFileSync(process.execPath, [cli, 'validate', join(ROOT, 'examples/node-a.yaml')], { encoding: 'utf8' })).toContain('valid');

    const port = await freePort();
    const file = join(mkdtempSync(join(tmpdir(), 'hastate-build-')), 'single.yaml');
    writeFileSync(file, `ha:\n  backend: single\n  interface: 127.0.0.1\n  node_id: built\nstatus:\n  host: 127.0.0.1\n  port: ${port}\n`);
    const proc = spawn(process.execPath, [cli, 'run', '--config', file, '--log', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const end = performance.now() + 15_000;
      let status: { role?: string; version?: string } = {};
      while (performance.now() < end) {
        try {
          status = (await (await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(1_000) })).json()) as typeof status;
          if (status.role === 'primary') break;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toMatchObject({ role: 'primary', version });
      const page = await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) })).text();
      expect(page).toContain('id="state-primary"');
    } finally {
      proc.kill('SIGKILL');
    }
  }, 90_000);
});
