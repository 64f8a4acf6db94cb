import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/index.ts';
import { loadInventoryConfig } from '../../examples/app-config/keys.ts';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples/app-config/app.jsonc');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_') && !k.startsWith('INVENTORY_')));

function main(file: string, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/app-config/main.ts', file], { cwd: ROOT, encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function variant(edit: (text: string) => string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hastate-app-config-')), 'app.jsonc');
  writeFileSync(file, edit(readFileSync(EXAMPLE, 'utf8')));
  return file;
}

describe('examples/app-config', () => {
  it('the example file loads: hastate\'s keys and the application\'s, comments and all', () => {
    const c = loadInventoryConfig(EXAMPLE, {});
    expect(c.ha).toMatchObject({ nodeId: 'inventory-a', priority: 10, heartbeat: { intervalMs: 1000, timeoutMs: 3000 } });
    expect(c.inventory).toEqual({ apiUrl: 'http://127.0.0.1:9400/v1', refreshIntervalMs: 30_000, batchSize: 50, store: { path: '/var/lib/inventory', fsync: true } });
    expect(loadInventoryConfig(EXAMPLE, { INVENTORY_INVENTORY_BATCH_SIZE: '7' }).inventory.batchSize).toBe(7);
  });

  it('service.json holds a valid configuration in its "hastate" section', () => {
    const c = loadConfig({ file: join(ROOT, 'examples/app-config/service.json'), section: 'hastate', env: {} });
    expect(c.ha).toMatchObject({ nodeId: 'inventory-b', priority: 5 });
    expect(c.status.port).toBe(9991);
  });

  it('the script prints what it loaded and exits 0', () => {
    const r = main(EXAMPLE);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node inventory-a (priority 10): refresh http://127.0.0.1:9400/v1 every 30000 ms, batches of 50\n');
    expect(r.stdout).toContain('inventory:\n  api_url: http://127.0.0.1:9400/v1\n  refresh_interval_seconds: 30\n');
    expect(r.stdout).toContain('ui title: Inventory /* not a comment either */\n');
  });

  it('a typo in an application key or a hastate key, or a bad override, exits 2 naming file, line, column and key', () => {
    const typo = variant((t) => t.replace('"batch_size"', '"batch_sise"').replace('"priority": 10', '"priority": "10"'));
    const r = main(typo, { INVENTORY_INVENTORY_STORE_FSYNC: 'yes' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${typo}:9:17: ha.priority: expected integer, found string "10"`);
    expect(r.stderr).toContain(`${typo}:20:5: inventory.batch_sise: unknown key; did you mean inventory.batch_size?`);
    expect(r.stderr).toContain('env: INVENTORY_INVENTORY_STORE_FSYNC: expected true or false, found "yes"');
  });

  it('a top-level name that is neither hastate\'s, the application\'s keys, nor in appSections is refused', () => {
    const extra = variant((t) => t.replace('"ui":', '"uj":'));
    expect(() => loadInventoryConfig(extra, {})).toThrow(ConfigError);
    expect(main(extra).stderr).toMatch(/:25:3: uj: unknown key/);
  });
});
